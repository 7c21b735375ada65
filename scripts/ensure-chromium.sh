#!/usr/bin/env bash
# test/cors.test.ts drives Debian's Chromium (through playwright-core, which downloads no browser
# of its own) to send real CORS preflights. Install it when /usr/bin/chromium is missing (needs
# root and apt-get). Only the browser: playwright-core talks to it over CDP, so no chromedriver.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
  echo "Chromium is needed at /usr/bin/chromium by test/cors.test.ts: install it (Debian: apt-get install chromium) and run again." >&2
  exit 1
fi
echo "installing chromium (Debian package) for the browser CORS test…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
