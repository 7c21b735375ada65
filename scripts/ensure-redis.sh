#!/usr/bin/env bash
# The Redis store's tests and the multi-process end-to-end tests run a real redis-server on
# 127.0.0.1 (test/redis-server.ts starts and stops their own, on free ports, with their own data
# directories). Install Debian's redis-server when it is missing (needs root and apt-get), and
# stop the packaged service in case the install started it on port 6379: the tests need none of it.
set -euo pipefail
if command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ]; then exit 0; fi
if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
  echo "redis-server is needed by the Redis tests: install it (Debian: apt-get install redis-server) and run again." >&2
  exit 1
fi
echo "installing redis-server (Debian package) for the Redis tests…"
{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; } ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }
service redis-server stop >/dev/null 2>&1 || true
