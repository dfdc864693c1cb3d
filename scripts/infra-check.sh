#!/usr/bin/env bash
# Static checks of infra/ (no terraform binary needed): checkov (own venv) and the HCL wiring
# tests (python-hcl2, another venv: checkov's bc-python-hcl2 shadows it). Venvs live outside the
# clone so repeated runs reuse them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache="${FLOE_TOOLS_CACHE:-$HOME/.cache}"
venv() { # name, pip spec, import check
  local dir="$cache/$1"
  if ! "$dir/bin/python" -c "$3" 2>/dev/null; then
    echo "==> installing $2 into $dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$2"
  fi
}
venv floe-hcl2 python-hcl2 'import hcl2'
venv floe-checkov checkov 'import checkov'
echo "==> infra wiring tests (python-hcl2)"
"$cache/floe-hcl2/bin/python" infra/tests/test_wiring.py
echo "==> checkov"
"$cache/floe-checkov/bin/checkov" -d infra --framework terraform --quiet --compact --skip-download
