#!/usr/bin/env python3
"""Checks on `terraform show -json` of a plan of infra/example (run by scripts/terraform-check.sh
for every trigger x commit mode x catalog x KMS combination). Each check is an AWS rule a
deployment would otherwise break at apply time or in operation:

- SQS visibility timeout >= 6x the consuming function's timeout (AWS guidance for Lambda pollers);
- every SQS event source mapping has a maximum concurrency below the function's reserved
  concurrency (else bursts throttle into maxReceiveCount and the DLQ);
- the alarm topic is not encrypted with the AWS-managed key (CloudWatch cannot publish to it);
- no alarm uses SEARCH() (CloudWatch refuses it in alarms);
- alarms exist for failed objects, failed and refused commits, and queue age;
- the commit and compaction queues (and the commit DLQ) have a policy restricting senders;
- every bucket has a rule removing expired delete markers;
- with a KMS key, queues, buckets, logs and the topic use it.

Usage: plan_checks.py PLAN.json LABEL KMS(true|false)
"""
import json
import sys


def resources(plan):
    out = []

    def walk(module):
        out.extend(module.get("resources", []))
        for child in module.get("child_modules", []):
            walk(child)

    walk(plan["planned_values"]["root_module"])
    return out


def main():
    path, label, kms = sys.argv[1], sys.argv[2], sys.argv[3] == "true"
    plan = json.load(open(path))
    rs = resources(plan)
    by_type = {}
    for r in rs:
        by_type.setdefault(r["type"], []).append(r)
    failures = []

    def check(cond, msg):
        if not cond:
            failures.append(msg)

    functions = {r["index"]: r["values"] for r in by_type.get("aws_lambda_function", [])}
    queues = {r["name"]: r["values"] for r in by_type.get("aws_sqs_queue", [])}
    consumer = {"ingest": "ingest", "commit": "commit", "compact": "compact"}
    for queue, fn in consumer.items():
        vis = queues[queue]["visibility_timeout_seconds"]
        timeout = functions[fn]["timeout"]
        check(vis >= 6 * timeout, f"queue {queue}: visibility {vis} s < 6 x {fn} timeout {timeout} s")

    # Sort compaction spills sorted runs to /tmp: the compact function gets more than the default.
    tmp = (functions["compact"].get("ephemeral_storage") or [{}])[0].get("size", 512)
    check(tmp >= 1024, f"compact function /tmp is {tmp} MB: sort compaction spills runs there")

    for esm in by_type.get("aws_lambda_event_source_mapping", []):
        fn = esm["name"]
        reserved = functions[fn]["reserved_concurrent_executions"]
        scaling = esm["values"].get("scaling_config") or []
        maxc = scaling[0]["maximum_concurrency"] if scaling else None
        check(maxc is not None, f"event source mapping {fn}: no maximum_concurrency")
        if maxc is not None and reserved >= 0:
            check(maxc < reserved, f"event source mapping {fn}: maximum_concurrency {maxc} >= reserved {reserved}")

    for topic in by_type.get("aws_sns_topic", []):
        key = topic["values"].get("kms_master_key_id")
        check(key != "alias/aws/sns", "alarm topic uses alias/aws/sns: CloudWatch alarms cannot publish to it")
        if kms:
            check(key is not None, "alarm topic not encrypted with the KMS key")

    alarms = [r["values"] for r in by_type.get("aws_cloudwatch_metric_alarm", [])]
    for a in alarms:
        for q in a.get("metric_query") or []:
            check("SEARCH(" not in (q.get("expression") or "").upper(),
                  f"alarm {a['alarm_name']} uses SEARCH(), which CloudWatch refuses in alarms")
    metrics = {(a.get("namespace"), a.get("metric_name"), json.dumps(a.get("dimensions"), sort_keys=True)) for a in alarms}
    for metric, fn in [("ObjectsFailed", "ingest"), ("CommitFailed", "commit"),
                       ("CommitRequestsRefused", "commit"), ("CheckFailed", "validate"),
                       ("MaintenanceFailed", "compact")]:
        check(("Floe", metric, json.dumps({"Function": fn})) in metrics, f"no alarm on Floe {metric} for {fn}")
    ages = [a for a in alarms if a.get("metric_name") == "ApproximateAgeOfOldestMessage"]
    aged = {a["dimensions"]["QueueName"] for a in ages}
    for q in ("ingest", "commit"):
        check(queues[q]["name"] in aged, f"no queue-age alarm on {queues[q]['name']}")

    policies = {r["index"] for r in by_type.get("aws_sqs_queue_policy", []) if r["name"] == "senders"}
    for q in ("commit", "commit_dlq", "compact"):
        check(q in policies, f"queue {q} has no policy restricting its senders")

    lifecycles = by_type.get("aws_s3_bucket_lifecycle_configuration", [])
    check(len(lifecycles) == 3, f"{len(lifecycles)} lifecycle configurations, want 3")
    for lc in lifecycles:
        markers = [r for r in lc["values"]["rule"]
                   if any(e.get("expired_object_delete_marker") for e in r.get("expiration") or [])]
        check(markers, f"bucket {lc['name']}: no rule removing expired delete markers")

    # Objects registered in place are table data: no expiration may reach them.
    registered = (plan.get("variables", {}).get("register_prefixes") or {}).get("value") or []
    landing = [lc for lc in lifecycles if lc["name"] == "landing"]
    for lc in landing:
        for r in lc["values"]["rule"]:
            if not any(e.get("days") for e in r.get("expiration") or []):
                continue
            prefixes = [f.get("prefix") or "" for f in r.get("filter") or [{}]] or [""]
            for p in prefixes:
                for reg in registered:
                    check(not (reg.startswith(p) or p.startswith(reg)),
                          f"landing rule {r['id']} (prefix {p!r}) expires registered objects under {reg!r}")

    # Least privilege: only with registered prefixes may the commit role read landing objects.
    docs = {c.get("index"): json.dumps(c["change"].get("after")) for c in plan.get("resource_changes", [])
            if c["type"] == "aws_iam_policy_document" and c["address"].endswith(f'.fn["{c.get("index")}"]')}
    check(("CheckRegisteredObjects" in docs.get("commit", "")) == bool(registered),
          f"commit role: CheckRegisteredObjects {'missing' if registered else 'granted without register_prefixes'}")

    if kms:
        for name, q in queues.items():
            check(q.get("kms_master_key_id"), f"queue {name} not encrypted with the KMS key")
        for sse in by_type.get("aws_s3_bucket_server_side_encryption_configuration", []):
            rule = sse["values"]["rule"][0]["apply_server_side_encryption_by_default"][0]
            check(rule["sse_algorithm"] == "aws:kms", f"bucket {sse['index']}: not SSE-KMS")
    else:
        for name, q in queues.items():
            check(q.get("sqs_managed_sse_enabled"), f"queue {name} without SQS-managed SSE")

    if failures:
        print(f"FAIL {label}:")
        for f in failures:
            print(f"  - {f}")
        sys.exit(1)
    print(f"ok   {label}: {len(rs)} resources")


if __name__ == "__main__":
    main()
