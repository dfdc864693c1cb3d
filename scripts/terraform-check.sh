#!/usr/bin/env bash
# Terraform against emulated AWS (run by `make test` after the Rust tests; moto must be up on
# FLOE_MOTO_PORT, scripts/local-moto.sh):
#   1. `terraform fmt -check`, `init` (from the local provider mirror: no registry here), `validate`;
#   2. `plan` of infra/example for every trigger x commit mode x catalog x KMS combination, each
#      checked by infra/tests/plan_checks.py (AWS rules moto would not enforce);
#   3. `apply` of the default deployment to moto, then infra/tests/apply_probe.py: wiring read back
#      through AWS's APIs and an object taken from the landing bucket to the Glue table by the real
#      ingest and commit binaries.
# Without terraform or the provider mirror this fails loudly (FLOE_SKIP_TERRAFORM=1 skips it, with
# a warning that nothing was checked).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
moto="http://127.0.0.1:${FLOE_MOTO_PORT:-9020}"
venv="${FLOE_MOTO_VENV:-$HOME/.cache/floe-moto}"
export TF_CLI_CONFIG_FILE=/dev/null TF_IN_AUTOMATION=1 TF_INPUT=0

if [ -n "${FLOE_SKIP_TERRAFORM:-}" ]; then
  echo "!!! FLOE_SKIP_TERRAFORM is set: Terraform fmt/validate/plan/apply NOT checked !!!" >&2
  exit 0
fi
if ! command -v terraform >/dev/null; then
  echo "ERROR: terraform is not on PATH: infra/ cannot be checked (install terraform >= 1.5, or set FLOE_SKIP_TERRAFORM=1 to skip knowingly)" >&2
  exit 1
fi
mirror="${FLOE_TF_PLUGIN_DIR:-}"
if [ -z "$mirror" ]; then
  found=$(find / -maxdepth 4 -type d -name registry.terraform.io 2>/dev/null | head -1 || true)
  [ -n "$found" ] && mirror=$(dirname "$found")
fi
if [ -z "$mirror" ] || [ ! -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
  echo "ERROR: no local mirror of the hashicorp/aws provider found (a directory holding registry.terraform.io/hashicorp/aws; set FLOE_TF_PLUGIN_DIR). infra/ NOT checked." >&2
  exit 1
fi
curl -fsS "$moto/moto-api/" >/dev/null || { echo "ERROR: moto is not running at $moto (scripts/local-moto.sh up)" >&2; exit 1; }

echo "==> terraform $(terraform version | head -1 | cut -d' ' -f2), provider mirror $mirror"
terraform fmt -check -recursive "$root/infra"

# A scratch copy: the provider pointed at moto (an override file), placeholder zips.
work=$(mktemp -d /tmp/floe-tf.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$root/infra" "$root/tables" "$work/"
mkdir -p "$work/demo" && cp -r "$root/demo/data" "$work/demo/"
for fn in ingest validate commit compact; do
  mkdir -p "$work/artifacts/$fn"
  (cd "$work/artifacts/$fn" && printf 'placeholder' >bootstrap && python3 -c "import zipfile; zipfile.ZipFile('bootstrap.zip','w').write('bootstrap')")
done
services="cloudwatch events glue iam kms lambda logs s3 s3tables scheduler sns sqs sts"
{
  echo 'provider "aws" {'
  echo '  region                      = "us-east-1"'
  echo '  access_key                  = "AKIDMOTO"'
  echo '  secret_key                  = "moto"'
  echo '  skip_credentials_validation = true'
  echo '  skip_requesting_account_id  = true'
  echo '  skip_metadata_api_check     = true'
  echo '  s3_use_path_style           = true'
  echo '  endpoints {'
  for s in $services; do echo "    $s = \"$moto\""; done
  echo '  }'
  echo '}'
} >"$work/infra/example/moto_override.tf"
cd "$work/infra/example"
terraform init -backend=false -plugin-dir="$mirror" >"$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
terraform validate -no-color

echo "==> plan: trigger x commit mode x catalog x KMS"
kms="arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
secret="floe-client:s3cr3t-$RANDOM$RANDOM"
plans=0
for trigger in sqs direct eventbridge; do
  for mode in queue direct; do
    for catalog in glue rest s3tables; do
      for k in false true; do
        label="trigger=$trigger commit_mode=$mode catalog=$catalog kms=$k"
        args=(-var "artifacts_dir=$work/artifacts" -var "trigger=$trigger" -var "commit_mode=$mode")
        if [ "$catalog" = s3tables ]; then
          args+=(-var 'catalog={type="s3tables"}')
        fi
        if [ "$catalog" = rest ]; then
          args+=(-var 'catalog={type="rest",rest_uri="https://catalog.example.com/api",warehouse="s3://floe-rest-wh/"}')
          # The credential as a (sensitive) variable without KMS, from Secrets Manager with it.
          if [ "$k" = true ]; then
            args+=(-var "catalog_credential_secret_arn=arn:aws:secretsmanager:us-east-1:123456789012:secret:floe-rest-AbCdEf")
          else
            args+=(-var "catalog_credential=$secret")
          fi
        fi
        [ "$k" = true ] && args+=(-var "kms_key_arn=$kms")
        if ! terraform plan -lock=false -no-color "${args[@]}" -out="$work/p.plan" >"$work/plan.log" 2>&1; then
          echo "FAIL plan $label"; tail -40 "$work/plan.log"; exit 1
        fi
        if grep -q "$secret" "$work/plan.log"; then
          echo "FAIL $label: the REST credential appears in the plan output"; exit 1
        fi
        terraform show -json "$work/p.plan" >"$work/p.json"
        python3 "$root/infra/tests/plan_checks.py" "$work/p.json" "$label" "$k"
        plans=$((plans + 1))
      done
    done
  done
done
echo "==> $plans plans checked"

echo "==> plan: Parquet registered in place under exports/ (landing expiry must not reach it)"
label="register_prefixes=[exports/]"
if ! terraform plan -lock=false -no-color -var "artifacts_dir=$work/artifacts" -var 'register_prefixes=["exports/"]' -out="$work/p.plan" >"$work/plan.log" 2>&1; then
  echo "FAIL plan $label"; tail -40 "$work/plan.log"; exit 1
fi
terraform show -json "$work/p.plan" >"$work/p.json"
python3 "$root/infra/tests/plan_checks.py" "$work/p.json" "$label" false
python3 - "$work/p.json" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
def walk(m):
    yield from m.get("resources", [])
    for c in m.get("child_modules", []):
        yield from walk(c)
rs = list(walk(plan["planned_values"]["root_module"]))
lc = [r for r in rs if r["type"] == "aws_s3_bucket_lifecycle_configuration" and r["name"] == "landing"][0]
expiring = sorted(f["prefix"] for r in lc["values"]["rule"] if any(e.get("days") for e in r.get("expiration") or []) for f in r["filter"])
assert "exports/" not in expiring and len(expiring) >= 3, f"landing expiry rules: {expiring}"
print(f"ok   registered prefixes: landing expiry only under {expiring}")
PY

echo "==> apply the default deployment (Glue, S3 -> SQS -> ingest, queued commits) to moto"
# A fresh moto: the example's Glue database names are fixed (demo), so a second apply would clash.
curl -fsS -X POST "$moto/moto-api/reset" >/dev/null
name="floe"
terraform apply -lock=false -auto-approve -no-color -var "artifacts_dir=$work/artifacts" -var "name=$name" >"$work/apply.log" 2>&1 || { tail -60 "$work/apply.log"; exit 1; }
grep -E '^Apply complete' "$work/apply.log"

echo "==> the deployed path: landing bucket -> ingest binary -> commit binary -> Glue table"
bins="${CARGO_TARGET_DIR:-$root/target}/debug"
(cd "$root" && cargo build -q -p ingest -p commit)
"$venv/bin/python" "$root/infra/tests/apply_probe.py" "$moto" "$bins" "$name"
