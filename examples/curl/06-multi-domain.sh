#!/usr/bin/env bash
# Multi-domain hosting: company1 from the template, company2 with custom settings, then per-domain policies.
set -euo pipefail
. "$(dirname "$0")/env.sh"
auth=(-H "Authorization: Bearer $MAILYARD_TOKEN" -H "Content-Type: application/json")

curl -sS -f -X POST "$MAILYARD_URL/api/domains" "${auth[@]}" \
  -d '{"name": "company1.com", "use_default_template": true}'
echo
curl -sS -f -X POST "$MAILYARD_URL/api/domains" "${auth[@]}" \
  -d '{
    "name": "company2.com",
    "use_default_template": false,
    "domain": {
      "status": "active",
      "max_users": 50,
      "default_quota": 2147483648,
      "dkim_signing_enabled": true,
      "spf_enabled": true,
      "auth_totp_enforced": true
    }
  }'
echo
# Strict security for company1
curl -sS -f -X PUT "$MAILYARD_URL/api/domains/company1.com/security" "${auth[@]}" \
  -d '{"spam": {"reject_score": 8.0}, "auth": {"totp_enforced": true}, "greylist": {"enabled": true}}'
echo
# Relaxed security for company2
curl -sS -f -X PUT "$MAILYARD_URL/api/domains/company2.com/security" "${auth[@]}" \
  -d '{"spam": {"reject_score": 15.0}, "auth": {"totp_enforced": false}, "greylist": {"enabled": false}}'
echo
