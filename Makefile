# The commands people use. `make run` starts Sigma on SQLite; `make test`
# runs every test (it finds or starts a PostgreSQL for the tests itself).

CARGO ?= cargo
export CARGO_TARGET_DIR ?= $(CURDIR)/target

.PHONY: run build test lint fmt check-config help

help:
	@echo "make run     start the server on SQLite (./data/sigma.db) at http://127.0.0.1:3000, in development mode"
	@echo "make test    run every test, on SQLite and PostgreSQL, and the web UI's when Node.js is installed"
	@echo "make web     build the web UI into web/dist (embedded by make run and make build)"
	@echo "make lint    rustfmt and clippy, as CI runs them"
	@echo "make bench   seed 100,000 VPS and measure the API on both backends"

# Development mode: without SIGMA_JWT_SECRET, login tokens are signed with a
# random secret made at start-up (they end at restart). Production sets the secret.
run: ui-if-missing
	$(CARGO) run --release -p sigma-api --bin sigma-api $$(test -f web/dist/index.html && echo --features ui) -- serve --dev

build: ui-if-missing
	$(CARGO) build --release -p sigma-api $$(test -f web/dist/index.html && echo --features ui)

test:
	scripts/test.sh
	scripts/test-web.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

-include mk/*.mk
