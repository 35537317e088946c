#!/bin/sh
# Ansible dynamic inventory from Sigma:
#
#   SIGMA_URL=http://sigma.internal:3000 SIGMA_API_KEY=... \
#     ansible-inventory -i deploy/ansible/sigma-inventory.sh --graph
#
# or, in ansible.cfg: [defaults] inventory = /path/to/sigma-inventory.sh
#
# Groups: status_*, purpose_*, country_*, provider_*, tag_*; host variables
# ansible_host, ansible_port, ansible_user and sigma_* (see docs/INTEGRATIONS.md).
#
# Environment:
#   SIGMA_URL              base URL of Sigma (default http://127.0.0.1:3000)
#   SIGMA_API_KEY          API key (read-only is enough), or
#   SIGMA_API_KEY_FILE     a file holding it
#   SIGMA_INVENTORY_QUERY  VPS filters and options of /api/ansible/inventory,
#                          e.g. `country=JP&label=china-telecom` or `tag=iplc`
#   SIGMA_TIMEOUT          seconds before giving up (default 20)
set -eu

case "${1:-}" in
  --list) ;;
  --host)
    # --list answers `_meta.hostvars`, so Ansible never asks host by host.
    echo '{}'
    exit 0
    ;;
  *)
    echo "usage: $0 --list | --host NAME" >&2
    exit 2
    ;;
esac

url=${SIGMA_URL:-http://127.0.0.1:3000}
query=${SIGMA_INVENTORY_QUERY:-}
key=${SIGMA_API_KEY:-}
if [ -z "$key" ] && [ -n "${SIGMA_API_KEY_FILE:-}" ]; then
  key=$(cat "$SIGMA_API_KEY_FILE")
fi

# The key goes to curl on its standard input, not on its command line.
if [ -n "$key" ]; then
  printf 'header = "Authorization: Bearer %s"\n' "$key"
fi | exec curl --config - --silent --show-error --fail --location \
  --max-time "${SIGMA_TIMEOUT:-20}" "${url%/}/api/ansible/inventory${query:+?$query}"
