# Floe — the two commands are `make demo` and `make test`.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(CURDIR)/target

.PHONY: demo test test-unit test-it up down fmt lint bench package clean

## demo: install tools, start SeaweedFS, build, ingest sample data via cargo lambda, query it
demo:
	scripts/demo.sh

## test: all tests (unit + integration against a real local S3 server and SQLite catalog)
test:
	scripts/test.sh

## up / down: start or stop the local S3 server (SeaweedFS) with the Floe buckets
up:
	scripts/local-stack.sh up
down:
	scripts/local-stack.sh down

fmt:
	cargo fmt --all

## lint: formatting and clippy with warnings as errors
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## bench: throughput and peak RSS figures with baselines from the same run
bench:
	scripts/bench.sh

## package: release zips for Lambda (arm64, provided.al2023)
package:
	# Built one at a time so the DataFusion engine (validate's `checks` feature) stays out of ingest.
	cargo lambda build --release --arm64 --output-format zip -p ingest
	cargo lambda build --release --arm64 --output-format zip -p validate
	cargo lambda build --release --arm64 --output-format zip -p commit
	cargo lambda build --release --arm64 --output-format zip -p compact

clean:
	scripts/local-stack.sh down || true
	rm -rf .floe
