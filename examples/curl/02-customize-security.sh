#!/usr/bin/env bash
# Customize a domain's security settings (partial update: other settings keep their values).
set -euo pipefail
. "$(dirname "$0")/env.sh"
curl -sS -f -X PUT "$MAILYARD_URL/api/domains/$DOMAIN/security" \
  -H "Authorization: Bearer $MAILYARD_TOKEN" \
  -H "Content-Type: application/json" \
  -d '{
    "dkim": {
      "signing_enabled": true,
      "key_size": 4096
    },
    "spam": {
      "reject_score": 12.0
    },
    "auth": {
      "totp_enforced": true
    }
  }'
echo
