#!/usr/bin/env bash
# Restarts the instances of the example API behind nginx one at a time, without losing a request:
# each one drains (DRAIN_DELAY_MS), stops and starts again while nginx sends everything to the
# others, and the next one is only restarted once this one answers /healthz again.
#
#   examples/nginx/rolling-restart.sh              # jwtauth-example@3000, then @3001
#   examples/nginx/rolling-restart.sh 3000 3001 3002
set -euo pipefail
if [ "$#" -gt 0 ]; then ports=("$@"); else ports=(3000 3001); fi
for port in "${ports[@]}"; do
  echo "restarting jwtauth-example@$port…"
  systemctl restart "jwtauth-example@$port"
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz"; then break; fi
    sleep 0.2
  done
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" || { echo "jwtauth-example@$port does not answer /healthz: stopping here" >&2; exit 1; }
  echo "jwtauth-example@$port is back"
done
