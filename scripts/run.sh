#!/usr/bin/env bash
# One command: install, load the demo data into the data folder if it is empty, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/aftersales serve --demo-if-empty "$@"
