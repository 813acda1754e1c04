#!/usr/bin/env bash
# One command: install, then serve.
#   bash scripts/run.sh                       the demo: ./demo-data, demo data loaded when it has none,
#                                             a banner on every page
#   bash scripts/run.sh --data-dir DIR        a real data folder (made once by `aftersales init`);
#   AFTERSALES_DATA=DIR bash scripts/run.sh   never gets demo data
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
demo=(--demo)
[ -n "${AFTERSALES_DATA:-}" ] && demo=()
for arg in "$@"; do
  case "$arg" in --data-dir|--data-dir=*) demo=() ;; esac
done
exec .venv/bin/aftersales serve "${demo[@]}" "$@"
