#!/usr/bin/env bash
# Create a user (the domain must exist) and an alias that forwards to it and to an outside address.
set -euo pipefail
. "$(dirname "$0")/env.sh"
auth=(-H "Authorization: Bearer $MAILYARD_TOKEN" -H "Content-Type: application/json")
curl -sS -f -X POST "$MAILYARD_URL/api/users" "${auth[@]}" \
  -d "{\"email\": \"alice@$DOMAIN\", \"password\": \"a long passphrase\", \"quota\": 1073741824}"
echo
curl -sS -f -X POST "$MAILYARD_URL/api/aliases" "${auth[@]}" \
  -d "{\"address\": \"sales@$DOMAIN\", \"destinations\": [\"alice@$DOMAIN\", \"partner@example.net\"]}"
echo
curl -sS -f "$MAILYARD_URL/api/users?domain=$DOMAIN" -H "Authorization: Bearer $MAILYARD_TOKEN"
echo
