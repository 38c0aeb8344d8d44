/**
 * The OpenAPI 3.1 document for the REST shim, built from the route table and the settings declaration (the
 * column and section schemas are converted from the same zod schemas that validate requests). Each operation
 * carries its route's access declaration as `x-mailyard-access` ({who, target?, totp_setup}; http.ts `Access`),
 * and the public ones an empty `security`.
 */
import { z } from 'zod';
import { PASSWORD_MAX, PASSWORD_MIN } from '../auth/passwordPolicy.ts';
import { COLUMN_SCHEMAS, SECTIONS } from '../domains/settings.ts';
import { VERSION } from '../version.ts';
import type { RestRoute } from './http.ts';

const jsonSchema = (s: z.ZodType) => {
  const { $schema: _s, ...rest } = z.toJSONSchema(s, { unrepresentable: 'any', io: 'input' }) as Record<
    string,
    unknown
  >;
  return rest;
};

const ruleAsString = { type: 'string', description: 'JSON text, e.g. "{\\"count\\":50,\\"window_minutes\\":60}"' };

function domainColumns() {
  const properties: Record<string, unknown> = {};
  for (const [column, schema] of Object.entries(COLUMN_SCHEMAS)) {
    const js = jsonSchema(schema);
    properties[column] = column.startsWith('ratelimit_') && js.type === 'object' ? { oneOf: [js, ruleAsString] } : js;
  }
  return { type: 'object', properties, additionalProperties: false };
}

function securitySections() {
  const properties: Record<string, unknown> = {};
  for (const s of SECTIONS)
    properties[s.rest] = {
      type: 'object',
      properties: Object.fromEntries(Object.entries(s.fields).map(([f, schema]) => [f, jsonSchema(schema)])),
      additionalProperties: false,
    };
  return { type: 'object', properties, additionalProperties: false };
}

const str = { type: 'string' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });

const BODIES: Record<string, unknown> = {
  'POST /api/login': {
    type: 'object',
    required: ['email', 'password'],
    properties: {
      email: { type: 'string' },
      password: { type: 'string', description: 'The account password (app passwords are for IMAP and SMTP only).' },
      totp_code: {
        type: ['string', 'null'],
        description: 'A current TOTP code or a recovery code; required when the user has TOTP on.',
      },
    },
    additionalProperties: false,
  },
  'POST /api/tokens': {
    type: 'object',
    required: ['name', 'scopes'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 64 },
      scopes: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', description: 'admin, domain:<name> or user:<address>; only scopes the caller holds.' },
      },
      expires_at: { type: ['integer', 'null'], description: 'Epoch ms in the future; omitted or null: never.' },
    },
    additionalProperties: false,
  },
  'PUT /api/users/{email}/admin-domains': {
    type: 'object',
    required: ['domains'],
    properties: { domains: { type: 'array', items: { type: 'string' }, description: 'The whole list; [] for none.' } },
    additionalProperties: false,
  },
  'POST /api/users/{email}/totp/confirm': {
    type: 'object',
    required: ['code'],
    properties: { code: { type: 'string', description: 'The current 6-digit code of the pending secret.' } },
    additionalProperties: false,
  },
  'DELETE /api/users/{email}/totp': {
    type: 'object',
    properties: {
      code: {
        type: 'string',
        description:
          "A current or recovery code; one who manages the user may omit it (and the body) for another's account.",
      },
    },
    additionalProperties: false,
  },
  'POST /api/users/{email}/app-passwords': {
    type: 'object',
    required: ['name', 'scopes'],
    properties: {
      name: { type: 'string', maxLength: 64 },
      scopes: { type: 'array', minItems: 1, items: { enum: ['imap', 'smtp'] } },
    },
  },
  'POST /api/blocked-ips': {
    type: 'object',
    required: ['ip'],
    properties: {
      ip: { type: 'string' },
      minutes: { type: ['integer', 'null'], minimum: 1, description: 'Omitted or null: permanent.' },
      reason: { type: 'string' },
      kind: { enum: ['block', 'allow'], default: 'block' },
    },
  },
  'POST /api/domains': {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string' },
      use_default_template: { type: 'boolean', default: true },
      domain: ref('DomainColumns'),
    },
  },
  'PUT /api/domains/{name}': ref('DomainColumns'),
  'PUT /api/domains/{name}/security': ref('DomainSecurity'),
  'POST /api/domains/{name}/dkim': {
    type: 'object',
    required: ['selector'],
    properties: {
      selector: { type: 'string', description: 'A DNS label sequence not yet used by the domain.' },
      key_type: { enum: ['rsa', 'ed25519'], description: 'Default: the domain’s key type.' },
      key_size: { enum: [1024, 2048, 4096], description: 'RSA only. Default: the domain’s key size.' },
    },
    additionalProperties: false,
  },
  'POST /api/users': {
    type: 'object',
    required: ['email', 'password'],
    properties: {
      email: { type: 'string', format: 'email' },
      password: { type: 'string', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX },
      quota: { type: ['integer', 'null'], minimum: 0, description: 'Bytes; null = the domain default; 0 = unlimited.' },
      status: { enum: ['active', 'disabled', 'suspended'] },
      full_name: { type: ['string', 'null'] },
    },
  },
  'PUT /api/users/{email}': {
    type: 'object',
    properties: {
      password: { type: 'string', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX },
      quota: { type: ['integer', 'null'], minimum: 0 },
      status: { enum: ['active', 'disabled', 'suspended'] },
      full_name: { type: ['string', 'null'] },
    },
  },
  'PUT /api/users/{email}/password': {
    type: 'object',
    required: ['password'],
    properties: {
      current_password: {
        type: 'string',
        description:
          'Checked when given (403 authentication_failed if wrong); required for your own password, omitted by an admin or domain administrator changing another user’s.',
      },
      password: { type: 'string', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX },
    },
    additionalProperties: false,
  },
  'POST /api/queue/retry': {
    type: 'object',
    description: 'Exactly one of ids, queue_id, all.',
    properties: {
      ids: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1 },
      queue_id: { type: 'string' },
      all: { const: true, description: 'Every queued or deferred entry.' },
    },
    additionalProperties: false,
  },
  'POST /api/aliases': {
    type: 'object',
    required: ['address', 'destinations'],
    properties: {
      address: { type: 'string' },
      destinations: { type: 'array', items: { type: 'string' }, minItems: 1 },
    },
  },
};

const RESPONSES: Record<string, unknown> = {
  'POST /api/login': {
    type: 'object',
    required: ['token', 'expires_at', 'totp_setup_required'],
    properties: {
      token: { type: 'string', description: 'The session token (mys_...), shown once: send it as Bearer.' },
      expires_at: { type: 'integer', description: 'Epoch ms (api.session_hours after the login).' },
      totp_setup_required: {
        type: 'boolean',
        description: 'The domain enforces TOTP and the user has not enrolled: only me, TOTP enrolment and logout.',
      },
    },
  },
  'POST /api/logout': { type: 'object', properties: { logged_out: { type: 'boolean' } } },
  'GET /api/me': {
    type: 'object',
    properties: {
      actor: str,
      via: { enum: ['admin-token', 'api-token', 'session'] },
      admin: { type: 'boolean' },
      domains: { type: 'array', items: str, description: 'Domains the caller administers.' },
      scopes: { type: 'array', items: str },
      totp_setup_required: { type: 'boolean' },
      session_id: { type: ['integer', 'null'] },
      token_id: { type: ['integer', 'null'] },
      user: { type: ['object', 'null'], description: 'The user the caller is (a session or a user: token).' },
    },
  },
  'GET /api/users/{email}/sessions': { type: 'array', items: ref('Session') },
  'GET /api/tokens': { type: 'array', items: ref('ApiToken') },
  'POST /api/tokens': {
    allOf: [ref('ApiToken'), { type: 'object', properties: { token: { type: 'string', description: 'Shown once.' } } }],
  },
  'GET /api/users/{email}/totp': {
    type: 'object',
    properties: {
      enabled: { type: 'boolean' },
      pending: { type: 'boolean' },
      recovery_codes_left: { type: 'integer' },
    },
  },
  'POST /api/users/{email}/totp': {
    type: 'object',
    properties: {
      secret: { type: 'string', description: 'Base32, shown once.' },
      uri: { type: 'string', description: 'otpauth://totp/...' },
      qr_svg_data_url: { type: 'string', description: 'The URI as an SVG QR code (data:image/svg+xml;base64,...).' },
    },
  },
  'POST /api/users/{email}/totp/confirm': {
    type: 'object',
    properties: {
      recovery_codes: { type: 'array', items: str, description: '10 single-use codes, shown once.' },
      user: { type: 'object' },
    },
  },
  'GET /api/domains': { type: 'array', items: ref('Domain') },
  'POST /api/domains': ref('Domain'),
  'GET /api/domains/{name}': ref('Domain'),
  'PUT /api/domains/{name}': ref('Domain'),
  'GET /api/domains/{name}/security': ref('DomainSecurity'),
  'PUT /api/domains/{name}/security': ref('DomainSecurity'),
  'GET /api/domains/{name}/dkim': { type: 'array', items: ref('DkimKey') },
  'POST /api/domains/{name}/dkim': ref('DkimKey'),
  'POST /api/domains/{name}/dkim/{selector}/activate': ref('DkimKey'),
  'DELETE /api/domains/{name}/dkim/{selector}': ref('DkimKey'),
  'GET /api/queue': {
    type: 'object',
    properties: {
      entries: { type: 'array', items: ref('QueueEntry') },
      total: { type: 'integer', description: 'Entries matching the filter (all pages).' },
      next_after: { type: ['integer', 'null'], description: 'Pass as `after` for the next page; null: last page.' },
    },
  },
  'GET /api/queue/summary': {
    type: 'object',
    properties: {
      queued: { type: 'integer' },
      deferred: { type: 'integer' },
      sending: { type: 'integer' },
      oldest_at: { type: ['integer', 'null'], description: 'Epoch ms the oldest pending entry was queued.' },
      oldest_age_seconds: { type: ['integer', 'null'] },
    },
  },
  'GET /api/queue/{id}': ref('QueueEntry'),
  'POST /api/queue/retry': ref('QueueReport'),
  'POST /api/queue/{id}/retry': ref('QueueReport'),
  'DELETE /api/queue/{id}': ref('QueueReport'),
  'DELETE /api/queue': ref('QueueReport'),
};

const QUERY: Record<string, { name: string; required?: boolean; schema: unknown; description?: string }[]> = {
  'GET /api/users': [{ name: 'domain', schema: str, description: 'Only this domain (one the caller administers).' }],
  'GET /api/aliases': [{ name: 'domain', schema: str, description: 'Only this domain (one the caller administers).' }],
  'GET /api/queue': [
    {
      name: 'status',
      schema: str,
      description: 'queued, deferred, sending, delivered, bounced, cancelled; several comma-separated or repeated.',
    },
    { name: 'domain', schema: str, description: 'Recipient domain (exact).' },
    { name: 'sender', schema: str, description: 'Part of the envelope sender.' },
    { name: 'recipient', schema: str, description: 'Part of the recipient address.' },
    { name: 'queue_id', schema: str },
    { name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
    { name: 'after', schema: { type: 'integer', minimum: 0 }, description: 'Row id cursor (`next_after`).' },
  ],
  'DELETE /api/queue': [{ name: 'queue_id', required: true, schema: str }],
};

/** Success statuses other than the default (201 for POST, 200 otherwise). */
const OK_STATUS: Record<string, string> = {
  'POST /api/login': '200',
  'POST /api/logout': '200',
  'POST /api/users/{email}/totp/confirm': '200',
  'POST /api/queue/retry': '200',
  'POST /api/queue/{id}/retry': '200',
};

/** Bodies that may be left out. */
const OPTIONAL_BODY = new Set(['DELETE /api/users/{email}/totp']);

/** POST routes that change an existing resource rather than create one answer 200. */
const OK_200 = new Set(['POST /api/domains/{name}/dkim/{selector}/activate']);

export function openApiDocument(routes: RestRoute[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const key = `${r.method} ${r.pattern}`;
    const params = [
      ...r.keys.map((k) => ({ name: k, in: 'path', required: true, schema: { type: 'string' } })),
      ...(QUERY[key] ?? []).map((q) => ({ in: 'query', required: false, ...q })),
    ];
    const ok = OK_STATUS[key] ?? (r.method === 'POST' && !OK_200.has(key) ? '201' : '200');
    paths[r.pattern] ??= {};
    paths[r.pattern]![r.method.toLowerCase()] = {
      summary: r.summary,
      'x-mailyard-access': {
        who: r.access.who,
        ...(r.access.target ? { target: r.access.target } : {}),
        totp_setup: r.access.totpSetup === true,
      },
      ...(r.access.who === 'public' ? { security: [] } : {}),
      parameters: params,
      ...(BODIES[key] ? { requestBody: { required: !OPTIONAL_BODY.has(key), content: json(BODIES[key]) } } : {}),
      responses: {
        [ok]: { description: 'Success', content: json(RESPONSES[key] ?? { type: 'object' }) },
        '400': { description: 'Bad JSON, wrong types or values (each bad field listed)', content: json(ref('Error')) },
        '401': {
          description:
            r.access.who === 'public'
              ? 'Login failed (error authentication_failed; the same for a wrong password and a blocked client)'
              : 'Missing or wrong bearer token',
          content: json(ref('Error')),
        },
        '403': {
          description:
            'Outside the caller’s scopes (error forbidden), or a password or code to prove did not match (error authentication_failed)',
          content: json(ref('Error')),
        },
        '404': { description: 'Not found', content: json(ref('Error')) },
        '409': {
          description:
            'Conflict (duplicate, a domain that still has users, a DKIM key in the wrong state, or queue entries that are all being sent / not retryable)',
          content: json(ref('Error')),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Mailyard REST API (gomailserver-compatible)', version: VERSION },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        DomainColumns: domainColumns(),
        Domain: {
          allOf: [
            ref('DomainColumns'),
            {
              type: 'object',
              properties: {
                id: { type: 'integer' },
                name: { type: 'string' },
                dkim_public_key: { type: ['string', 'null'], description: 'The p= value of the DKIM record.' },
                dkim_dns_record: { type: ['string', 'null'] },
              },
            },
          ],
        },
        DomainSecurity: securitySections(),
        DkimKey: {
          type: 'object',
          required: ['selector', 'status', 'key_type', 'key_size', 'dns_name', 'dns_record', 'created_at'],
          properties: {
            selector: { type: 'string' },
            status: { enum: ['active', 'staged', 'retiring'] },
            key_type: { enum: ['rsa', 'ed25519'] },
            key_size: { type: 'integer', description: 'RSA modulus length; 256 for Ed25519.' },
            dns_name: { type: 'string', description: '<selector>._domainkey.<domain>' },
            dns_record: { type: 'string', description: 'The TXT record value to publish at dns_name.' },
            created_at: { type: ['string', 'null'], format: 'date-time', description: 'null for the active key.' },
          },
        },
        Session: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            created_at: { type: 'integer' },
            created_ip: { type: ['string', 'null'] },
            user_agent: { type: ['string', 'null'] },
            last_used_at: { type: ['integer', 'null'] },
            expires_at: { type: 'integer' },
            current: { type: 'boolean', description: 'The session making this request.' },
          },
        },
        ApiToken: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            name: str,
            scopes: { type: 'array', items: str },
            created_by: { type: ['string', 'null'] },
            created_at: { type: 'integer' },
            last_used_at: { type: ['integer', 'null'] },
            expires_at: { type: ['integer', 'null'] },
          },
        },
        QueueEntry: {
          type: 'object',
          description: 'One recipient of an outbound message; times are epoch milliseconds.',
          properties: {
            id: { type: 'integer' },
            queue_id: str,
            sender: str,
            recipient: str,
            recipient_domain: str,
            size: { type: 'integer' },
            status: { enum: ['queued', 'deferred', 'sending', 'delivered', 'bounced', 'cancelled'] },
            attempts: { type: 'integer' },
            next_attempt_at: { type: 'integer' },
            last_attempt_at: { type: ['integer', 'null'] },
            last_error: { type: ['string', 'null'] },
            last_code: { type: ['integer', 'null'] },
            last_mx: { type: ['string', 'null'] },
            origin: { enum: ['submission', 'forward', 'dsn'] },
            dsn_notify: { type: ['string', 'null'] },
            dsn_ret: { type: ['string', 'null'] },
            dsn_envid: { type: ['string', 'null'] },
            created_at: { type: 'integer' },
            expires_at: { type: 'integer' },
          },
        },
        QueueReport: {
          type: 'object',
          description: 'What a retry or delete did; also the body of its 409 when every selected entry was refused.',
          properties: {
            affected: { type: 'integer', description: 'Entries made due now, or removed.' },
            refused: {
              type: 'array',
              description: 'Entries left alone: being sent (delete), or not queued/deferred (retry).',
              items: {
                type: 'object',
                properties: { id: { type: 'integer' }, queue_id: str, recipient: str, status: str },
              },
            },
          },
        },
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string' },
            message: { type: 'string' },
            fields: {
              type: 'array',
              items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
}
