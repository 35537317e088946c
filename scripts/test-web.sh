#!/usr/bin/env bash
# The web UI's checks, run by `make test` after the Rust tests:
#   1. lint and type-check (ESLint, tsc), unit tests (Vitest), among them the
#      check that web/src/api/schema.d.ts matches docs/openapi.json;
#   2. the production build into web/dist and its size budget (npm run size);
#   3. the Rust tests of the embedded UI (sigma-api built with `--features ui`);
#   4. the end-to-end test: that server on a fresh SQLite database, driven
#      by Debian's Chromium (/usr/bin/chromium, or $CHROMIUM) through playwright-core.
# Without Node.js 20.19+ (or without Chromium, for step 4) it says so and
# skips; under CI (CI=true) it fails instead, since CI installs both.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
ci=${CI:-}

missing() {
  if [ -n "$ci" ]; then echo "test-web: $1 (CI installs it in .ci/run)" >&2; exit 1; fi
  echo "test-web: $1: skipping $2" >&2
}

node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number);
             process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a >= 23 ? 0 : 1)'
}
if ! node_ok; then
  missing "the web UI needs Node.js 20.19+ or 22.12+ with npm" "the web UI's tests"
  exit 0
fi

cd web
[ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
echo "== web: lint, unit tests, API types"
npm run --silent lint
npm run --silent test
echo "== web: build and size"
npm run --silent build
npm run --silent size
cd ..

# Built for the whole workspace, as the Rust tests were, so the dependencies'
# features match theirs and only sigma-api is compiled again. Running its
# tests also builds $CARGO_TARGET_DIR/debug/sigma-api, the e2e test's server.
echo "== sigma-api with the embedded UI"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --features sigma-api/ui -E 'binary_id(sigma-api::http) & test(/^ui::/)'
else
  cargo test --workspace --features sigma-api/ui --test http ui::
fi

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  missing "no Chromium at $chromium (Debian: apt-get install chromium)" "the end-to-end test"
  exit 0
fi
echo "== web: end-to-end in Chromium"
cd web
CHROMIUM=$chromium SIGMA_API_BIN=$CARGO_TARGET_DIR/debug/sigma-api npm run --silent e2e
