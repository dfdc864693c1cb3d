#!/usr/bin/env bash
# After `make package`: every function's zip must exist, be under Lambda's 50 MB direct-upload
# limit, and its bootstrap must need no glibc newer than 2.34 (provided.al2023). Prints the sizes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}/lambda"
limit=$((50 * 1000 * 1000))
objdump=$(command -v llvm-objdump || ls /usr/bin/llvm-objdump-* 2>/dev/null | head -1 || true)
status=0
printf '%-10s %12s %12s %8s\n' function zip_bytes bootstrap glibc
for dir in "$root"/functions/*/; do
  fn=$(basename "$dir")
  zip="$target/$fn/bootstrap.zip"
  if [ ! -f "$zip" ]; then echo "$fn: $zip missing (run make package)" >&2; status=1; continue; fi
  size=$(stat -c %s "$zip")
  tmp=$(mktemp -d)
  unzip -q -o "$zip" -d "$tmp"
  boot=$(stat -c %s "$tmp/bootstrap")
  glibc="?"
  if [ -n "$objdump" ]; then
    glibc=$("$objdump" -T "$tmp/bootstrap" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
  fi
  rm -rf "$tmp"
  printf '%-10s %12d %12d %8s\n' "$fn" "$size" "$boot" "$glibc"
  if [ "$size" -ge "$limit" ]; then echo "$fn: zip is $size bytes, over the 50 MB limit" >&2; status=1; fi
  if [ "$glibc" = "?" ]; then echo "$fn: cannot read symbols (install llvm for llvm-objdump)" >&2; status=1
  elif [ "$(printf '%s\n2.34\n' "$glibc" | sort -V | tail -1)" != "2.34" ]; then
    echo "$fn: needs GLIBC_$glibc, newer than AL2023's 2.34" >&2; status=1
  fi
done
exit $status
