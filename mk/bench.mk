# `make bench`: load benchmark of the release server (see docs/BENCHMARKS.md).
# Included by the top-level Makefile.
#   make bench BENCH_ARGS="--backend sqlite"                 one backend only
#   make bench BENCH_ARGS="--write docs/BENCHMARKS.md"      refresh the published figures
#   make bench BENCH_ARGS="--suite integrations"            only targets, inventory and the 50,000-row import
# PostgreSQL comes from SIGMA_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
# when it is unreachable that backend is skipped.

CARGO ?= cargo
BENCH_TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
BENCH_ARGS ?=

.PHONY: bench
bench:
	$(CARGO) build --release -p sigma-api -p sigma-bench
	$(BENCH_TARGET_DIR)/release/sigma-bench --server $(BENCH_TARGET_DIR)/release/sigma-api $(BENCH_ARGS)
