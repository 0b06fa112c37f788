#!/usr/bin/env bash
# Installs (from Debian's packages, if missing) what the generated documents need: the CJK fonts the mediation
# agreement is set in (fonts-noto-cjk: NotoSerifCJK-Regular.ttc and -Bold.ttc) and, for the tests that read the
# PDFs back, poppler's pdftotext (poppler-utils). Usage: bash .ci/document-tools.sh
set -euo pipefail
FONT=/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc
missing=()
[ -f "$FONT" ] || missing+=(fonts-noto-cjk)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi
