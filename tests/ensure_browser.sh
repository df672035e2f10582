#!/usr/bin/env bash
# Browser tests drive Debian's chromium with Playwright. Install it when missing and we
# are root (CI and the dev machines are); otherwise the browser tests skip with a message
# (or fail when REQUIRE_BROWSER=1).
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
    || echo "could not install chromium; browser tests will skip (or fail with REQUIRE_BROWSER=1)"
else
  echo "chromium is not installed and we are not root; browser tests will skip"
fi
exit 0
