# Sourced by the other scripts: where the API is and the admin token.
# Override with MAILYARD_URL=http://mail.example.com:8080 MAILYARD_TOKEN=... ./01-create-domain.sh
MAILYARD_URL="${MAILYARD_URL:-http://localhost:8080}"
MAILYARD_TOKEN="${MAILYARD_TOKEN:-$(cat ./data/admin-token 2>/dev/null || echo your-admin-token)}"
DOMAIN="${DOMAIN:-example.com}"
