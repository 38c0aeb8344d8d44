#!/usr/bin/env bash
# Create your first domain from the _default template (deployment guide, step 3).
set -euo pipefail
. "$(dirname "$0")/env.sh"
curl -sS -f -X POST "$MAILYARD_URL/api/domains" \
  -H "Authorization: Bearer $MAILYARD_TOKEN" \
  -H "Content-Type: application/json" \
  -d "{
    \"name\": \"$DOMAIN\",
    \"use_default_template\": true
  }"
echo
