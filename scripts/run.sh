#!/usr/bin/env bash
# One command: install, load the demo data into the default data folder if it is empty, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/aftersales demo --if-empty
exec .venv/bin/aftersales serve "$@"
