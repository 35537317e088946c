# The web UI (web/): `make web` builds it into web/dist, which the `ui`
# feature of sigma-api embeds. `make run` builds it first when it is missing.
# Included by the top-level Makefile.
#   make web          install the UI's packages when needed and build web/dist
#   make test-web     the UI's checks alone (lint, unit, API types, size, Rust UI tests, e2e)
#   make gen-api      regenerate web/src/api/schema.d.ts from docs/openapi.json
#   make screenshots  the UI's checks, with the end-to-end test writing docs/screenshots/
#                     (install CJK and emoji fonts first, Debian: fonts-noto-cjk fonts-noto-color-emoji)

NPM ?= npm
.PHONY: web web-deps ui-if-missing test-web gen-api screenshots

web-deps:
	@[ web/node_modules/.package-lock.json -nt web/package-lock.json ] || (cd web && $(NPM) ci --no-audit --no-fund)

web: web-deps
	cd web && $(NPM) run build

ui-if-missing:
	@if [ -f web/dist/index.html ]; then :; \
	elif command -v $(NPM) >/dev/null 2>&1; then $(MAKE) --no-print-directory web || echo "the web UI did not build (it needs Node.js 20.19+): Sigma starts without it"; \
	else echo "Node.js is not installed: Sigma starts without its web UI (its / page says how to build it)"; fi

test-web:
	scripts/test-web.sh

gen-api: web-deps
	cd web && $(NPM) run gen:api

screenshots:
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots scripts/test-web.sh
