#!/usr/bin/env python3
"""Static checks that keep infra/ in step with the code (run by `make test`, python-hcl2 venv):

- every function crate under functions/ is deployed, has its own role, role policy and log group,
  and a zip path that `make package` produces;
- each function's environment sets every variable shared/src/config.rs requires (REQUIRED_VARS,
  plus REQUIRED_BY_CATALOG for the catalog types the module offers) and only variables the config
  module reads (a typo would be silently ignored at run time);
- the trigger prefixes (infra/example/tables.auto.tfvars.json) are exactly the prefixes of
  tables/*.toml, and the module builds its S3 / EventBridge filters from them;
- no IAM statement uses a `*` action (or `service:*`), and only X-Ray's statement names resource "*";
- every SQS queue that is not itself a DLQ has a redrive policy; every DLQ has a depth alarm.
"""
import glob
import json
import os
import re
import sys
import tomllib

import hcl2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = os.path.join(ROOT, "infra", "modules", "floe")
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def load_module():
    blocks = {}
    for path in sorted(glob.glob(os.path.join(MODULE, "*.tf"))):
        with open(path) as f:
            doc = hcl2.load(f)
        for kind, items in doc.items():
            blocks.setdefault(kind, []).extend(items)
    return blocks


def _named(blocks, kind, wanted):
    out = {}
    for item in blocks.get(kind, []):
        for t, named in item.items():
            if strip(t) == wanted:
                out.update({strip(n): body for n, body in named.items()})
    return out


def resources(blocks, rtype):
    return _named(blocks, "resource", rtype)


def data_sources(blocks, dtype):
    return _named(blocks, "data", dtype)


def locals_(blocks):
    out = {}
    for item in blocks.get("locals", []):
        out.update(item)
    return out


def strip(s):
    """python-hcl2 keeps expressions as `${...}` strings and quotes keys/strings inconsistently."""
    return s.strip('"') if isinstance(s, str) else s


def config_vars():
    src = open(os.path.join(ROOT, "shared", "src", "config.rs")).read()
    known = set(re.findall(r'get\("((?:FLOE|AWS)_[A-Z0-9_]+)"\)', src))
    required = re.search(r"pub const REQUIRED_VARS: &\[&str\] = &\[([^\]]*)\]", src).group(1)
    required = re.findall(r'"([A-Z0-9_]+)"', required)
    by_catalog = dict(
        (k, re.findall(r'"([A-Z0-9_]+)"', v))
        for k, v in re.findall(r'\("(\w+)", &\[([^\]]*)\]\)', src.split("REQUIRED_BY_CATALOG", 1)[1].split("];", 1)[0])
    )
    return known, required, by_catalog


def test_functions(blocks, loc):
    crates = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(ROOT, "functions", "*", "Cargo.toml")))
    deployed = [strip(x) for x in loc["function_names"]]
    check(sorted(deployed) == crates, f"functions/ has {crates}, the module deploys {deployed}")
    fn = resources(blocks, "aws_lambda_function")["fn"]
    check(strip(fn["runtime"]) == "provided.al2023", "runtime must be provided.al2023")
    check([strip(a) for a in fn["architectures"]] == ["arm64"], "architecture must be arm64")
    check("/bootstrap.zip" in fn["filename"], "zip path must be cargo lambda's <fn>/bootstrap.zip")
    for rtype, name in [("aws_iam_role", "fn"), ("aws_iam_role_policy", "fn"), ("aws_cloudwatch_log_group", "fn")]:
        r = resources(blocks, rtype).get(name)
        check(r is not None and "local.function_names" in str(r.get("for_each")), f"{rtype}.{name} must exist for every function")
    makefile = open(os.path.join(ROOT, "Makefile")).read()
    for c in crates:
        check(f"--output-format zip -p {c}" in makefile, f"make package does not build {c}")


def env_keys(expr):
    """Keys of an HCL object literal inside an expression string (`{ FLOE_X = ... }`)."""
    return set(re.findall(r"\b((?:FLOE|AWS)_[A-Z0-9_]+)\s*=", expr))


def test_env(loc):
    known, required, by_catalog = config_vars()
    common = loc["common_env"]
    common_keys = env_keys(str(common))
    fenv = loc["function_env"]
    for name in ["ingest", "validate", "commit", "compact"]:
        keys = common_keys | env_keys(str(fenv[name]))
        check("local.common_env" in str(fenv[name]), f"{name} does not get the common settings")
        for var in required:
            check(var in keys, f"{name}: required variable {var} is not set")
        unknown = sorted(k for k in keys if k not in known)
        check(not unknown, f"{name}: variables the config module does not read: {unknown}")
    for kind in ["glue", "rest"]:
        for var in by_catalog.get(kind, []):
            check(var in common_keys, f"catalog {kind}: {var} is required but never set")
    check("FLOE_COMMIT_QUEUE_URL" in str(fenv["ingest"]), "ingest in queue mode needs FLOE_COMMIT_QUEUE_URL")
    check("FLOE_COMPACT_QUEUE_URL" in str(fenv["compact"]), "compact needs FLOE_COMPACT_QUEUE_URL")


def test_prefixes(blocks):
    specs = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "tables", "*.toml"))):
        spec = tomllib.load(open(path, "rb"))
        ns = spec.get("namespace", "demo")
        specs[f"{ns}.{spec['name']}"] = spec["prefixes"]
    generated = json.load(open(os.path.join(ROOT, "infra", "example", "tables.auto.tfvars.json")))["table_prefixes"]
    check(generated == specs, f"tables.auto.tfvars.json {generated} != prefixes in tables/*.toml {specs} (run make infra-prefixes)")
    triggers = open(os.path.join(MODULE, "triggers.tf")).read()
    check(triggers.count("local.all_prefixes") >= 3, "S3 queue/lambda notifications and the EventBridge rule must filter by local.all_prefixes")
    check("flatten(values(var.table_prefixes))" in open(os.path.join(MODULE, "main.tf")).read(), "all_prefixes must come from var.table_prefixes")


def iam_findings(node, sid=None):
    """Wildcard actions in Allow statements, and resource "*" outside the X-Ray statement, in
    parsed HCL (statement blocks, object literals in locals, and object literals inside
    expressions). A Deny statement may be as wide as it likes (the TLS-only bucket policy)."""
    found = []
    if isinstance(node, dict):
        if strip(node.get("effect", "")) == "Deny":
            return found
        sid = strip(node.get("sid", sid))
        for key, value in node.items():
            if key == "actions" and isinstance(value, list):
                found += [f"wildcard action {strip(a)}" for a in value if "*" in strip(a)]
            if key == "resources" and isinstance(value, list) and [strip(r) for r in value] == ["*"] and sid != "XRayTraces":
                found.append(f"resource * in statement {sid}")
            found += iam_findings(value, sid)
    elif isinstance(node, list):
        for item in node:
            found += iam_findings(item, sid)
    elif isinstance(node, str):
        for m in re.finditer(r'actions\s*=\s*\[([^\]]*)\]', node):
            found += [f"wildcard action {a}" for a in re.findall(r'"([^"]+)"', m.group(1)) if "*" in a]
        for m in re.finditer(r'sid\s*=\s*"([^"]+)"[^{}]*?resources\s*=\s*\["\*"\]', node):
            if m.group(1) != "XRayTraces":
                found.append(f"resource * in statement {m.group(1)}")
    return found


def test_iam(blocks):
    # The checker itself must catch what it looks for.
    assert iam_findings({"actions": ['"s3:*"'], "resources": ['"*"'], "sid": '"X"'}) == ["wildcard action s3:*", "resource * in statement X"]
    assert iam_findings('${[{sid = "Y", actions = ["sqs:*"], resources = ["*"]}]}') == ["wildcard action sqs:*", "resource * in statement Y"]
    assert iam_findings({"effect": '"Deny"', "actions": ['"s3:*"'], "sid": '"Z"'}) == []
    for f in iam_findings({k: v for k, v in blocks.items() if k in ("data", "locals", "resource")}):
        check(False, f"IAM: {f}")
    docs = data_sources(blocks, "aws_iam_policy_document")
    check("fn" in docs and "local.function_statements" in json.dumps(docs["fn"]), "each function's policy must come from local.function_statements")


def test_queues(blocks):
    queues = resources(blocks, "aws_sqs_queue")
    for name, q in queues.items():
        if name.endswith("dlq"):
            continue
        check("redrive_policy" in q, f"queue {name} has no DLQ redrive")
    alarms = resources(blocks, "aws_cloudwatch_metric_alarm")
    check("dlq_depth" in alarms and "local.dlqs" in str(alarms["dlq_depth"]["for_each"]), "every DLQ needs a depth alarm")
    dlq_names = re.findall(r"aws_sqs_queue\.(\w+)", open(os.path.join(MODULE, "queues.tf")).read().split("dlqs = {", 1)[1])
    for name in queues:
        if name.endswith("dlq"):
            check(name in dlq_names, f"DLQ {name} is not alarmed")


def main():
    blocks = load_module()
    loc = locals_(blocks)
    test_functions(blocks, loc)
    test_env(loc)
    test_prefixes(blocks)
    test_iam(blocks)
    test_queues(blocks)
    if failures:
        print("infra wiring drifted from the code:")
        for f in failures:
            print(f"  - {f}")
        sys.exit(1)
    print("infra wiring: functions, roles, log groups, env vars, trigger prefixes, IAM, DLQs — all in step")


if __name__ == "__main__":
    main()
