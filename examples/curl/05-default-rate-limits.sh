#!/usr/bin/env bash
# Adjust the default rate limits (the _default template that new domains copy).
set -euo pipefail
. "$(dirname "$0")/env.sh"
curl -sS -f -X PUT "$MAILYARD_URL/api/domains/_default" \
  -H "Authorization: Bearer $MAILYARD_TOKEN" \
  -H "Content-Type: application/json" \
  -d '{
    "ratelimit_smtp_per_ip": "{\"count\":50,\"window_minutes\":60}",
    "ratelimit_auth_per_ip": "{\"count\":5,\"window_minutes\":15}"
  }'
echo
