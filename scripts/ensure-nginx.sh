#!/usr/bin/env bash
# test/e2e-nginx.test.ts runs the examples behind a real nginx (its own config, ports and temp
# dir). Install Debian's nginx when it is missing (needs root and apt-get), and stop the packaged
# service in case the install started it on port 80: the test needs none of it.
set -euo pipefail
if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then exit 0; fi
if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
  echo "nginx is needed by test/e2e-nginx.test.ts: install it (Debian: apt-get install nginx-light) and run again." >&2
  exit 1
fi
echo "installing nginx (Debian package) for the end-to-end test…"
{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; } ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
service nginx stop >/dev/null 2>&1 || true
