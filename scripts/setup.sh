#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine, idempotently.
#   scripts/setup.sh          the app: CJK fonts (PDF glyphs), a virtualenv with the app
#   scripts/setup.sh --test   also chromium and poppler-utils (browser and PDF tests), wrk (the load bench), test packages
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-venv: the virtualenv; Pango: WeasyPrint; CJK fonts: glyphs in PDFs and pages;
# HarfBuzz subsetting makes PDFs fast
want=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk libharfbuzz-subset0)
[ "${1:-}" = "--test" ] && want+=(chromium poppler-utils wrk)
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
extra=""; [ "${1:-}" = "--test" ] && extra="[test]"
echo "==> pip install -e .${extra}"
.venv/bin/pip install -q --disable-pip-version-check -e ".${extra}"

echo "==> CJK font subset for PDFs, in .cache/fonts for every account (first run only; AFTERSALES_CACHE overrides)"
.venv/bin/python -m records.core.pdf >/dev/null
