#!/usr/bin/env bash
# Debian's Chromium for the browser tests (test tools cannot download their own browser here).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "setup: the browser tests need Chromium: run 'sudo apt-get install -y chromium'" >&2
  exit 1
fi
echo "setup: installing Chromium (Debian package)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
