#!/bin/sh
# Installs the Sigma agent as a systemd service on this machine.
#
#   install.sh --server https://sigma.example.com [--binary ./sigma-agent]
#              [--enrollment-token sge_...] [--interval 30] [--metrics-listen 127.0.0.1:9101]
#
# Puts the binary in /usr/local/bin, the unit in /etc/systemd/system, writes
# /etc/sigma-agent/agent.toml (0600: it may hold an enrolment token) and
# starts the service. Without an enrolment token the agent prints a claim
# token to its log: `journalctl -u sigma-agent` shows it with the command to
# claim it. Run again to change settings; the agent's identity is kept.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
binary=""
server=""
token=""
interval=30
metrics="127.0.0.1:9101"
prefix=${SIGMA_AGENT_INSTALL_ROOT:-}

while [ $# -gt 0 ]; do
  case "$1" in
    --server) server=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --enrollment-token) token=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --metrics-listen) metrics=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

[ -n "$server" ] || { echo "install.sh: --server URL is required" >&2; exit 2; }
case "$server" in http://*|https://*) ;; *) echo "install.sh: the server URL must start with https://" >&2; exit 2 ;; esac
case "$interval" in ''|*[!0-9]*) echo "install.sh: --interval takes seconds" >&2; exit 2 ;; esac
if [ -z "$binary" ]; then
  for candidate in "$here/sigma-agent" "$here/../../target/release/sigma-agent" "$(command -v sigma-agent 2>/dev/null || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then binary=$candidate; break; fi
  done
fi
[ -n "$binary" ] && [ -x "$binary" ] || { echo "install.sh: no sigma-agent binary found; give --binary PATH" >&2; exit 2; }

if [ -z "$prefix" ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (or set SIGMA_AGENT_INSTALL_ROOT to install into a folder)" >&2
  exit 1
fi

install -d -m 0755 "$prefix/usr/local/bin" "$prefix/etc/systemd/system"
install -d -m 0700 "$prefix/etc/sigma-agent"
install -m 0755 "$binary" "$prefix/usr/local/bin/sigma-agent"
install -m 0644 "$here/sigma-agent.service" "$prefix/etc/systemd/system/sigma-agent.service"

umask 077
config="$prefix/etc/sigma-agent/agent.toml"
{
  echo "# Written by install.sh; see docs/AGENT.md."
  echo "server = \"$server\""
  echo "interval = $interval"
  echo "metrics_listen = \"$metrics\""
  [ -n "$token" ] && echo "enrollment_token = \"$token\""
  true
} > "$config.tmp"
mv "$config.tmp" "$config"
chmod 0600 "$config"

if [ -z "$prefix" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now sigma-agent
  systemctl restart sigma-agent
  echo "sigma-agent is running; 'journalctl -u sigma-agent' shows its claim token when it needs one."
else
  echo "installed under ${prefix:-/}; start it with: systemctl enable --now sigma-agent"
fi
