#!/bin/sh
# Writes Sigma's Prometheus targets to a file for `file_sd_configs`.
#
#   SIGMA_URL=http://sigma.internal:3000 SIGMA_API_KEY_FILE=/etc/prometheus/sigma-api-key \
#     sync-targets.sh /var/lib/prometheus/sigma/targets.json [QUERY]
#
# QUERY narrows the targets with the VPS filters of /api/prometheus/targets,
# e.g. `country=JP&purpose=vpn-exit` or `job=agent`.
#
# The answer goes to a temporary file next to OUTPUT, which is renamed over
# OUTPUT only once it is complete: Prometheus never reads half a file.
# When Sigma cannot be reached or answers an error, OUTPUT is left as it
# was (Prometheus keeps scraping the last known fleet) and the script exits
# non-zero, so that cron or a systemd timer reports it.
#
# Environment:
#   SIGMA_URL           base URL of Sigma (default http://127.0.0.1:3000)
#   SIGMA_API_KEY       API key (a read-only key is enough), or
#   SIGMA_API_KEY_FILE  a file holding it
#   SIGMA_TIMEOUT       seconds before giving up (default 20)
set -eu

usage() {
  echo "usage: $0 OUTPUT.json [QUERY]" >&2
  exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
out=$1
query=${2:-}
url=${SIGMA_URL:-http://127.0.0.1:3000}
url=${url%/}/api/prometheus/targets${query:+?$query}
key=${SIGMA_API_KEY:-}
if [ -z "$key" ] && [ -n "${SIGMA_API_KEY_FILE:-}" ]; then
  key=$(cat "$SIGMA_API_KEY_FILE") || exit 1
fi

tmp=$(mktemp "$(dirname "$out")/.$(basename "$out").XXXXXX") || exit 1
trap 'rm -f "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# The key goes to curl on its standard input, not on its command line,
# where other users of the machine could read it.
if [ -n "$key" ]; then
  printf 'header = "Authorization: Bearer %s"\n' "$key"
fi | curl --config - --silent --show-error --fail --location \
  --max-time "${SIGMA_TIMEOUT:-20}" --output "$tmp" "$url" || {
  echo "$0: cannot fetch $url; $out left unchanged" >&2
  exit 1
}

# A target list is a JSON array; anything else (a proxy's HTML page, say)
# must not replace a good file.
first=$(tr -d ' \t\r\n' < "$tmp" | head -c 1)
if [ "$first" != "[" ]; then
  echo "$0: $url did not answer a JSON array; $out left unchanged" >&2
  exit 1
fi

chmod 0644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
