#!/usr/bin/env bash
# Print the DKIM public key to publish as p= in <selector>._domainkey.<domain> TXT.
set -euo pipefail
. "$(dirname "$0")/env.sh"
curl -sS -f -X GET "$MAILYARD_URL/api/domains/$DOMAIN" \
  -H "Authorization: Bearer $MAILYARD_TOKEN" \
  | jq -r '.dkim_public_key'
