# Floe — the two commands are `make demo` and `make test`.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(CURDIR)/target

.PHONY: demo test test-unit test-it up down fmt lint bench package infra-prefixes infra-check deploy destroy clean

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

## package: release zips for Lambda (arm64, provided.al2023); CATALOG=sql|rest|glue|s3tables links
## only that catalog (the deployment's `catalog_type`), unset links all four; SQL_RULES=no leaves
## the SQL rules engine out (for specs without [[contract.rules]]: a spec with rules is then
## refused at start-up)
CATALOG ?=
SQL_RULES ?= yes
PACKAGE_CATALOGS = $(if $(CATALOG),catalog-$(CATALOG),catalog-sql catalog-rest catalog-glue catalog-s3tables)
PACKAGE_RULES = $(if $(filter no,$(SQL_RULES)),,sql-rules)
PACKAGE_FEATURES = --no-default-features --features "$(strip $(PACKAGE_CATALOGS) $(PACKAGE_RULES))"
package:
	# Built one at a time so the DataFusion engine (validate's `checks` feature) stays out of ingest.
	cargo lambda build --release --arm64 --output-format zip -p ingest $(PACKAGE_FEATURES)
	cargo lambda build --release --arm64 --output-format zip -p validate $(PACKAGE_FEATURES)
	cargo lambda build --release --arm64 --output-format zip -p commit $(PACKAGE_FEATURES)
	cargo lambda build --release --arm64 --output-format zip -p compact $(PACKAGE_FEATURES)
	scripts/check-zips.sh

## infra-prefixes: regenerate the trigger prefixes Terraform filters by, from tables/*.toml
infra-prefixes:
	FLOE_DEFAULT_NAMESPACE=demo cargo run -q -p floe-cli --no-default-features -- spec-prefixes tables > infra/example/tables.auto.tfvars.json

## infra-check: checkov over infra/ + the HCL wiring tests (both also run in `make test`)
infra-check:
	scripts/infra-check.sh

## deploy / destroy: build the zips, then terraform apply / destroy in infra/example (needs AWS credentials + terraform)
deploy: package
	cd infra/example && terraform init -input=false && terraform apply
destroy:
	cd infra/example && terraform destroy

clean:
	scripts/local-stack.sh down || true
	rm -rf .floe
