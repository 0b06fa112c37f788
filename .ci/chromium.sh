#!/usr/bin/env bash
# Installs Debian's Chromium (and a CJK font, so screenshots are legible) for the end-to-end tests when
# /usr/bin/chromium is missing. playwright-core drives it; no browser is downloaded from anywhere else.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "installing Chromium from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq chromium fonts-wqy-microhei >&2
