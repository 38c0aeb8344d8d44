#!/usr/bin/env bash
# Health check (no token needed).
set -euo pipefail
. "$(dirname "$0")/env.sh"
curl -sS -f "$MAILYARD_URL/health"
echo
