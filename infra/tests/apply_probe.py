#!/usr/bin/env python3
"""The local "deployed" test: infra/example applied to moto (scripts/terraform-check.sh), then

1. wiring checks on what Terraform created, read back through AWS's APIs (moto): the landing
   bucket's notifications, bucket policies, role policies, queue policies, function environments,
   event source mappings, Glue databases;
2. end to end: objects uploaded to the landing bucket → moto's S3 notification in the ingest
   queue → the real ingest binary, run under a loopback Lambda Runtime API with the environment
   Terraform gave the function, fed that queue's messages as an SQS event → commit requests in the
   commit FIFO queue → the real commit binary, fed likewise → rows in the Glue table (read from
   the Iceberg metadata on moto's S3), bad rows in the quarantine table.

Usage: apply_probe.py MOTO_URL BIN_DIR PREFIX    (python with boto3: moto's venv)
"""
import csv
import gzip
import http.server
import io
import json
import os
import subprocess
import sys
import threading
import time
import uuid

import boto3

MOTO, BIN_DIR, NAME = sys.argv[1], sys.argv[2], sys.argv[3]
REGION = "us-east-1"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
kw = dict(endpoint_url=MOTO, region_name=REGION, aws_access_key_id="AKIDMOTO", aws_secret_access_key="moto")
s3 = boto3.client("s3", **kw)
sqs = boto3.client("sqs", **kw)
lam = boto3.client("lambda", **kw)
iam = boto3.client("iam", **kw)
glue = boto3.client("glue", **kw)
account = boto3.client("sts", **kw).get_caller_identity()["Account"]
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def queue_url(name):
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]


def queue_arn(url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


landing, warehouse = f"{NAME}-landing-{account}", f"{NAME}-warehouse-{account}"
ingest_q, commit_q = queue_url(f"{NAME}-ingest"), queue_url(f"{NAME}-commit.fifo")
commit_dlq = queue_url(f"{NAME}-commit-dlq.fifo")

# --- 1. wiring -------------------------------------------------------------------------------
prefixes = sorted(p for ps in json.load(open(os.path.join(ROOT, "infra/example/tables.auto.tfvars.json")))["table_prefixes"].values() for p in ps)
notif = s3.get_bucket_notification_configuration(Bucket=landing)
qconf = notif.get("QueueConfigurations", [])
check(sorted(r["Filter"]["Key"]["FilterRules"][0]["Value"] for r in qconf) == prefixes,
      f"landing notifications filter exactly the table prefixes {prefixes}")
check(all(r["QueueArn"] == queue_arn(ingest_q) and r["Events"] == ["s3:ObjectCreated:*"] for r in qconf),
      "every notification sends ObjectCreated to the ingest queue")

for b in (landing, warehouse, f"{NAME}-quarantine-{account}"):
    pol = json.loads(s3.get_bucket_policy(Bucket=b)["Policy"])
    tls = [s for s in pol["Statement"] if s.get("Sid") == "DenyInsecureTransport"]
    check(tls and tls[0]["Effect"] == "Deny" and tls[0]["Action"] in ("s3:*", ["s3:*"]),
          f"{b}: TLS-only policy denies s3:* over plain HTTP")


def role_statements(fn):
    doc = iam.get_role_policy(RoleName=f"{NAME}-{fn}", PolicyName=f"floe-{fn}")["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    return doc["Statement"]


def actions(st):
    a = st["Action"]
    return [a] if isinstance(a, str) else a


for fn in ("ingest", "validate", "commit", "compact"):
    sts = role_statements(fn)
    check(not any("glue:CreateDatabase" in actions(s) for s in sts), f"{fn} role: no glue:CreateDatabase")
    lists = [s for s in sts if "s3:ListBucket" in actions(s)]
    check(lists and all("s3:prefix" in json.dumps(s.get("Condition", {})) for s in lists),
          f"{fn} role: s3:ListBucket only under named prefixes")
    check(not any(a.endswith("*") and ":" in a and a.split(":")[1] == "*" for s in sts for a in actions(s)),
          f"{fn} role: no service:* actions")

ingest_role = iam.get_role(RoleName=f"{NAME}-ingest")["Role"]["Arn"]
pol = json.loads(sqs.get_queue_attributes(QueueUrl=commit_q, AttributeNames=["Policy"])["Attributes"]["Policy"])
deny = [s for s in pol["Statement"] if s["Effect"] == "Deny" and "sqs:SendMessage" in json.dumps(s["Action"])]
check(deny and ingest_role in json.dumps(deny[0]["Condition"]), "commit queue: only the ingest role may send")

env = {fn: lam.get_function_configuration(FunctionName=f"{NAME}-{fn}")["Environment"]["Variables"]
       for fn in ("ingest", "validate", "commit", "compact")}
check(env["ingest"].get("FLOE_COMMIT_QUEUE_URL") == commit_q, "ingest sends commit requests to the commit queue")
check(env["commit"].get("FLOE_COMMIT_DLQ_URL") == commit_dlq, "commit refuses requests into the commit DLQ")
check(env["compact"].get("FLOE_COMPACT_QUEUE_URL") == queue_url(f"{NAME}-compact"), "compact fans out to the compact queue")
mappings = lam.list_event_source_mappings()["EventSourceMappings"]
pairs = {(m["EventSourceArn"], m["FunctionArn"].split(":")[-1]) for m in mappings}
check((queue_arn(ingest_q), f"{NAME}-ingest") in pairs, "ingest queue → ingest function")
check((queue_arn(commit_q), f"{NAME}-commit") in pairs, "commit queue → commit function")
dbs = {d["Name"]: d.get("LocationUri") for d in glue.get_databases()["DatabaseList"]}
check(dbs.get("demo") == f"s3://{warehouse}/demo.db", "Glue database demo at <warehouse>/demo.db")
specs = [o["Key"] for o in s3.list_objects_v2(Bucket=warehouse, Prefix="_floe/tables/").get("Contents", [])]
check(len(specs) == len([f for f in os.listdir(os.path.join(ROOT, "tables")) if f.endswith(".toml")]),
      f"table specs uploaded: {specs}")


# --- 2. end to end through the real binaries -------------------------------------------------
class Runtime(http.server.BaseHTTPRequestHandler):
    """The Lambda Runtime API for one invocation: serves `event` once, records the result."""
    event, result, done = None, None, threading.Event()

    def do_GET(self):
        if self.path.endswith("/invocation/next") and Runtime.event is not None:
            body, Runtime.event = json.dumps(Runtime.event).encode(), None
            self.send_response(200)
            for k, v in {"Lambda-Runtime-Aws-Request-Id": str(uuid.uuid4()),
                         "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 300_000),
                         "Lambda-Runtime-Invoked-Function-Arn": f"arn:aws:lambda:{REGION}:{account}:function:probe",
                         "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000"}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        time.sleep(30)  # the next long poll: held until the process is stopped
        self.send_response(503)
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        kind = "response" if self.path.endswith("/response") else "error"
        Runtime.result = (kind, json.loads(body or b"null"))
        Runtime.done.set()
        self.send_response(202)
        self.end_headers()

    def log_message(self, *_):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
threading.Thread(target=server.serve_forever, daemon=True).start()


def invoke(fn, event):
    """Runs the function's real binary for one event with the environment Terraform set."""
    Runtime.event, Runtime.result = event, None
    Runtime.done.clear()
    proc_env = dict(os.environ)
    proc_env.update(env[fn])
    proc_env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_port}",
        "AWS_LAMBDA_FUNCTION_NAME": f"{NAME}-{fn}", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_STREAM_NAME": "probe",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{NAME}-{fn}",
        "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "AKIDMOTO", "AWS_SECRET_ACCESS_KEY": "moto",
        # Every AWS API of the deployment is moto's.
        "AWS_ENDPOINT_URL": MOTO, "AWS_ENDPOINT_URL_S3": MOTO, "AWS_ENDPOINT_URL_GLUE": MOTO,
        "AWS_ENDPOINT_URL_SQS": MOTO,
    })
    log = open(f"/tmp/floe-probe-{fn}.log", "ab")
    p = subprocess.Popen([os.path.join(BIN_DIR, fn)], env=proc_env, stdout=log, stderr=log)
    ok = Runtime.done.wait(180)
    p.kill()
    p.wait()
    if not ok:
        sys.exit(f"{fn}: no result within 180 s (log /tmp/floe-probe-{fn}.log)")
    return Runtime.result


def drain(url, fifo):
    """Receives everything in the queue as Lambda's poller would: (messages, SQS event)."""
    msgs = []
    for _ in range(20):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                  MessageSystemAttributeNames=["All"]).get("Messages", [])
        msgs.extend(got)
        if not got and msgs:
            break
    arn = queue_arn(url)
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": REGION} for m in msgs]
    return msgs, {"Records": records}


def settle(url, msgs, result):
    kind, body = result
    check(kind == "response", f"handler answered ({kind}): {json.dumps(body)[:300]}")
    failed = {f["itemIdentifier"] for f in (body or {}).get("batchItemFailures", [])}
    for m in msgs:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return failed


src = list(csv.reader(open(os.path.join(ROOT, "demo/data/orders-2026-01.csv"))))
rows = src[1:21]
bad = list(rows[0])
bad[0] = "not-a-number"
body = io.StringIO()
csv.writer(body, lineterminator="\n").writerows([src[0]] + rows + [bad])
run = uuid.uuid4().hex[:8]
key = f"orders/probe-{run}/part 1.csv"  # a space: S3 event keys are URL-encoded
s3.put_object(Bucket=landing, Key=key, Body=body.getvalue().encode())

msgs, event = drain(ingest_q, fifo=False)
bodies = [json.loads(m["Body"]) for m in msgs]
created = [r for b in bodies for r in b.get("Records", [])]
tests = [b for b in bodies if b.get("Event") == "s3:TestEvent"]
check(len(created) == 1 and created[0]["eventName"].startswith("ObjectCreated"),
      f"one ObjectCreated notification in the ingest queue ({[r.get('eventName') for r in created]})")
# S3 sends an s3:TestEvent when the notification is configured: ingest must take it in stride.
check(len(created) + len(tests) == len(msgs), f"nothing else in the ingest queue ({len(msgs)} messages)")
failed = settle(ingest_q, msgs, invoke("ingest", event))
check(not failed, f"ingest reported no batch item failures {failed}")

msgs, event = drain(commit_q, fifo=True)
groups = {m["Attributes"].get("MessageGroupId") for m in msgs}
check(groups == {"demo.orders", "demo.quarantine"}, f"commit requests grouped per table: {groups}")
failed = settle(commit_q, msgs, invoke("commit", event))
check(not failed, f"commit reported no batch item failures {failed}")


def table_records(table):
    t = glue.get_table(DatabaseName="demo", Name=table)["Table"]
    loc = t["Parameters"]["metadata_location"]
    bucket, k = loc.removeprefix("s3://").split("/", 1)
    raw = s3.get_object(Bucket=bucket, Key=k)["Body"].read()
    meta = json.loads(gzip.decompress(raw) if loc.endswith(".gz.metadata.json") else raw)
    snap = next(s for s in meta["snapshots"] if s["snapshot-id"] == meta["current-snapshot-id"])
    cols = {c["Name"]: c["Type"] for c in t["StorageDescriptor"]["Columns"]}
    return int(snap["summary"]["total-records"]), cols, meta["location"]


n, cols, location = table_records("orders")
check(n == len(rows), f"demo.orders holds the {len(rows)} good rows ({n})")
check(cols.get("order_ts") == "timestamp", f"Glue column order_ts is timestamp ({cols.get('order_ts')})")
check(location == f"s3://{warehouse}/demo.db/orders", f"table under the database location ({location})")
q, _, _ = table_records("quarantine")
check(q == 1, f"demo.quarantine holds the 1 bad row ({q})")
check(not sqs.receive_message(QueueUrl=commit_dlq, WaitTimeSeconds=0).get("Messages"), "commit DLQ is empty")

if failures:
    sys.exit(f"{len(failures)} apply-probe check(s) failed")
print("apply probe: all checks passed")
