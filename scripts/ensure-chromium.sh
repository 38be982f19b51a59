#!/bin/sh
# Makes sure the console's browser tests have a Chromium (never downloads one
# through Playwright). Always exits 0: without Chromium the tests skip and say why.
set -u
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing chromium with apt-get (for the console's browser tests)…"
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    exit 0
  fi
  echo "ensure-chromium: apt-get could not install chromium; the browser tests will be skipped." >&2
  exit 0
fi
cat >&2 <<'MSG'
ensure-chromium: no Chromium at /usr/bin/chromium (or $CHROMIUM_PATH), and this is not root with apt-get.
The console's browser tests will be skipped. To run them, install Chromium:
  Debian/Ubuntu: sudo apt-get install -y chromium
  macOS:         brew install --cask chromium   (then export CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium)
  or point CHROMIUM_PATH at any Chromium/Chrome binary.
MSG
exit 0
