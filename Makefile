# sluice: the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

demo: ## set up the local stack and run the main job
	infra/local/demo.sh

test: ## run every test (starts and stops the local stack)
	infra/local/test.sh

up: ## start the local stack (moto, functions under cargo lambda watch)
	infra/local/up.sh

down: ## stop the local stack
	infra/local/down.sh

fmt: ## format the code
	cargo fmt --all

lint: ## clippy with warnings as errors
	source infra/local/env.sh && cargo clippy --workspace --all-targets -- -D warnings

unit: ## unit tests only: no network, no credentials
	source infra/local/env.sh && cargo test --workspace

bench: ## benchmarks: cold start, memory, sizes, trigger load, sync speed (one table; see BENCHMARKS.md)
	infra/bench/run.sh

build: ## release build of the functions for Lambda (x86_64)
	source infra/local/env.sh && cargo lambda build --release -p sources -p discovery -p jobs -p trigger -p reconciler -p notifier

.PHONY: help demo test up down fmt lint unit bench build
