#!/usr/bin/env bash
# Installs the real tools that Sigma's integration tests drive, when they
# are missing, and says where they are:
#   - Prometheus and promtool: the Debian package `prometheus`, through apt
#     (as root, or with `sudo -n`);
#   - ansible-inventory: `ansible-core` from PyPI, in a virtualenv under
#     $SIGMA_TOOLS_DIR (default ~/.cache/sigma/tools/venv).
# The tests look for them in the same places (PATH, then the virtualenv).
# Idempotent and quick when everything is there. Exits non-zero when a tool
# is still missing afterwards.
set -euo pipefail

tools=${SIGMA_TOOLS_DIR:-$HOME/.cache/sigma/tools}
venv=$tools/venv
missing=()

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "tools: installing Prometheus (Debian package prometheus)"
    # The package would start its own service where an init system runs;
    # the tests start their own Prometheus, so forbid that.
    policy=/usr/sbin/policy-rc.d
    made_policy=
    if [ ! -e "$policy" ] && as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy" 2>/dev/null; then
      made_policy=1
    fi
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } ||
      echo "tools: apt-get could not install prometheus" >&2
    [ -n "$made_policy" ] && as_root rm -f "$policy"
  fi
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
fi

if ! command -v ansible-inventory >/dev/null 2>&1 && [ ! -x "$venv/bin/ansible-inventory" ]; then
  echo "tools: installing ansible-core into $venv"
  if python3 -m venv "$venv" >/dev/null && "$venv/bin/pip" install -q ansible-core; then :; else
    echo "tools: could not install ansible-core (needs python3 with venv, and PyPI)" >&2
  fi
  [ -x "$venv/bin/ansible-inventory" ] || missing+=(ansible-core)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "tools: still missing: ${missing[*]}; the tests that drive them will skip" \
       "(or fail with SIGMA_REQUIRE_TOOLS=1)" >&2
  exit 1
fi
echo "tools: $(prometheus --version 2>&1 | head -n 1); ansible-inventory in" \
     "$(command -v ansible-inventory || echo "$venv/bin/ansible-inventory")"
