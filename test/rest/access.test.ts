// Every REST route against its declared access (issue #16). The declarations are pinned in TABLE (a new route
// must be added there, with the access decided for it). The walk reads the routes from GET /api/openapi.json, so
// a new route is exercised without touching it (one without an `x-mailyard-access` declaration fails it), and
// each is called with targets in the caller's own domain and in another one, as
// - the admin token (never forbidden),
// - a domain administrator of a.example made through PUT /api/users/{email}/admin-domains, with a login session
//   (POST /api/login) and with an API token scoped domain:a.example,
// - a plain user of a.example (login session),
// - a user of a TOTP-enforcing domain who has not enrolled yet (a setup-required session).
// The answer must be 403 `forbidden` exactly when the declaration says the caller may not, and never when it may;
// a target the caller cannot act for that the service hides (`owner`: session and token ids) must be a 404.
// Fixtures a call may destroy (a deleted user or alias, a logged-out session) are put back before the next call.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TOKEN } from '../helpers/graphql.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';

type Json = any;

async function call(api: string, method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
}

const A = 'a.example';
const B = 'b.example';
const C = 'c.example';
const DADMIN = `dadmin@${A}`;
const ALICE = `alice@${A}`;
const CAROL = `carol@${A}`;
const BOB = `bob@${B}`;
const ERIN = `erin@${C}`;
/** A user of a.example who administers b.example: the domain admin of a.example must not take it over. */
const DAVE = `dave@${A}`;

/** What a call names: a domain, a user and an alias, and whether the caller may act on each. */
interface Target {
  label: string;
  domain: string;
  user: string;
  alias: string;
  /** The caller administers `domain` (so its users and aliases). */
  domainMine: boolean;
  /** The caller is `user` or manages it (its sessions, tokens with `scopes`, app passwords, TOTP). */
  userMine: boolean;
  /** Scopes of a token that belongs to `user`'s side. */
  scopes: string[];
  /** The services' own check (`owner`, `scopes` targets), when it differs from userMine. */
  serviceMine?: boolean;
}

interface Caller {
  name: string;
  token: string;
  admin: boolean;
  domainAdmin: boolean;
  setup: boolean;
  /** Logs in again (a session the call ended). */
  relogin?: () => Promise<string>;
  targets: Target[];
}

interface Access {
  who: 'admin' | 'domain' | 'user' | 'public';
  target?: string;
  totp_setup: boolean;
}

type Outcome = 'allowed' | 'forbidden' | 'hidden';

/** What a parameter or body field names. */
const KIND: Record<string, 'domain' | 'user' | 'alias'> = {
  name: 'domain',
  domain: 'domain',
  email: 'user',
  address: 'alias',
};

function targetKind(access: Access): 'domain' | 'user' | 'alias' | 'scopes' | 'owner' | undefined {
  const t = access.target;
  if (!t) return undefined;
  if (t === 'scopes' || t === 'owner') return t;
  const [, name] = t.split(':');
  const kind = KIND[name!];
  if (!kind) throw new Error(`the access test does not know what the target ${t} names; add it to KIND`);
  return kind;
}

function expected(access: Access, caller: Caller, t: Target): Outcome {
  if (access.who === 'public') return 'allowed';
  if (caller.setup) {
    if (!access.totp_setup) return 'forbidden';
    return !access.target || t.userMine ? 'allowed' : 'forbidden';
  }
  if (caller.admin) return 'allowed';
  if (access.who === 'admin') return 'forbidden';
  if (access.who === 'domain' && !caller.domainAdmin) return 'forbidden';
  const kind = targetKind(access);
  switch (kind) {
    case undefined:
      return 'allowed';
    case 'owner':
      return (t.serviceMine ?? t.userMine) ? 'allowed' : 'hidden';
    case 'scopes':
      return (t.serviceMine ?? t.userMine) ? 'allowed' : 'forbidden';
    case 'user':
      return t.userMine ? 'allowed' : 'forbidden';
    default:
      return t.domainMine ? 'allowed' : 'forbidden';
  }
}

/**
 * The access table (README "Account security"): every route's declaration, pinned. A route missing here fails
 * the first test: decide who may call it and add it (the walk below then checks it is enforced).
 */
const TABLE: Record<string, string> = {
  'POST /api/login': 'public',
  'POST /api/logout': 'user (totp setup)',
  'GET /api/me': 'user (totp setup)',
  'GET /api/users/{email}/sessions': 'user path:email',
  'DELETE /api/sessions/{id}': 'user owner',
  'GET /api/tokens': 'user',
  'POST /api/tokens': 'user scopes',
  'DELETE /api/tokens/{id}': 'user owner',
  'GET /api/users/{email}/admin-domains': 'admin',
  'PUT /api/users/{email}/admin-domains': 'admin',
  'GET /api/domains': 'domain',
  'POST /api/domains': 'admin',
  'GET /api/domains/{name}': 'domain path:name',
  'PUT /api/domains/{name}': 'admin',
  'DELETE /api/domains/{name}': 'admin',
  'GET /api/domains/{name}/security': 'domain path:name',
  'PUT /api/domains/{name}/security': 'domain path:name',
  'GET /api/domains/{name}/dkim': 'domain path:name',
  'POST /api/domains/{name}/dkim': 'domain path:name',
  'POST /api/domains/{name}/dkim/{selector}/activate': 'domain path:name',
  'DELETE /api/domains/{name}/dkim/{selector}': 'domain path:name',
  'GET /api/users': 'domain query:domain',
  'POST /api/users': 'domain body:email',
  'GET /api/users/{email}': 'user path:email',
  'PUT /api/users/{email}': 'domain path:email',
  'PUT /api/users/{email}/password': 'user path:email',
  'DELETE /api/users/{email}': 'domain path:email',
  'GET /api/aliases': 'domain query:domain',
  'POST /api/aliases': 'domain body:address',
  'GET /api/aliases/{address}': 'domain path:address',
  'DELETE /api/aliases/{address}': 'domain path:address',
  'GET /api/users/{email}/totp': 'user path:email',
  'POST /api/users/{email}/totp': 'user path:email (totp setup)',
  'POST /api/users/{email}/totp/confirm': 'user path:email (totp setup)',
  'DELETE /api/users/{email}/totp': 'user path:email',
  'GET /api/users/{email}/app-passwords': 'user path:email',
  'POST /api/users/{email}/app-passwords': 'user path:email',
  'DELETE /api/users/{email}/app-passwords/{id}': 'user path:email',
  'GET /api/blocked-ips': 'admin',
  'POST /api/blocked-ips': 'admin',
  'DELETE /api/blocked-ips/{ip}': 'admin',
  'GET /api/queue': 'admin',
  'GET /api/queue/summary': 'admin',
  'GET /api/queue/{id}': 'admin',
  'POST /api/queue/retry': 'admin',
  'POST /api/queue/{id}/retry': 'admin',
  'DELETE /api/queue/{id}': 'admin',
  'DELETE /api/queue': 'admin',
};

const describe = (a: Access) => [a.who, a.target, a.totp_setup ? '(totp setup)' : undefined].filter(Boolean).join(' ');

test('the access table: every route of /api/openapi.json declares the access decided for it', async (t) => {
  const { api } = await startTestServer(t);
  const doc = (await call(api, 'GET', '/api/openapi.json', undefined, null)).body;
  const found: Record<string, string> = {};
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>))
    for (const [method, op] of Object.entries(item)) {
      const access = op['x-mailyard-access'] as Access | undefined;
      found[`${method.toUpperCase()} ${path}`] = access ? describe(access) : '(none)';
      if (access?.who === 'public') assert.deepEqual(op.security, [], `${method} ${path}: public, no security`);
    }
  assert.deepEqual(found, TABLE);
});

test('every REST route: 403 forbidden exactly when its access declaration says so, for domain admins, users and setup-required sessions', async (t) => {
  const { api, app } = await startTestServer(t);
  const { services, repos } = app;
  for (const d of [A, B, C]) assert.equal((await call(api, 'POST', '/api/domains', { name: d })).status, 201);
  assert.equal((await call(api, 'PUT', `/api/domains/${C}/security`, { auth: { totp_enforced: true } })).status, 200);
  const users = [DADMIN, ALICE, CAROL, BOB, ERIN, DAVE];
  for (const u of users) await services.accounts.createUser('test', u, TEST_PASSWORD);
  const aliases: [string, string][] = [
    [`info@${A}`, CAROL],
    [`info@${B}`, BOB],
    [`info@${C}`, ERIN],
  ];
  for (const [a, dest] of aliases) services.accounts.createAlias('test', a, [dest]);

  // The domain admin: made by the admin through REST, then a login session and a domain-scoped API token.
  const made = await call(api, 'PUT', `/api/users/${DADMIN}/admin-domains`, { domains: [A] });
  assert.deepEqual([made.status, made.body.domains], [200, [A]]);
  assert.equal((await call(api, 'PUT', `/api/users/${DAVE}/admin-domains`, { domains: [B] })).status, 200);
  const login = async (email: string) => {
    const r = await call(api, 'POST', '/api/login', { email, password: TEST_PASSWORD }, null);
    assert.equal(r.status, 200, `login ${email}: ${JSON.stringify(r.body)}`);
    return r.body as { token: string; totp_setup_required: boolean };
  };
  const tok = await call(api, 'POST', '/api/tokens', { name: 'a-admin', scopes: [`domain:${A}`] });
  assert.equal(tok.status, 201);
  const erinLogin = await login(ERIN);
  assert.equal(erinLogin.totp_setup_required, true);

  const own: Target = {
    label: 'own domain',
    domain: A,
    user: CAROL,
    alias: `info@${A}`,
    domainMine: true,
    userMine: true,
    scopes: [`domain:${A}`],
  };
  const other: Target = {
    label: 'other domain',
    domain: B,
    user: BOB,
    alias: `info@${B}`,
    domainMine: false,
    userMine: false,
    scopes: [`domain:${B}`],
  };
  // Dave's sessions and user: tokens are the domain admin's to end (the services allow it: no takeover).
  const dave: Target = {
    ...own,
    label: 'a user of its domain who administers another domain',
    user: DAVE,
    userMine: false,
    scopes: [`user:${DAVE}`],
    serviceMine: true,
  };
  const callers: Caller[] = [
    { name: 'admin token', token: TOKEN, admin: true, domainAdmin: false, setup: false, targets: [own] },
    {
      name: 'domain admin (session)',
      token: (await login(DADMIN)).token,
      admin: false,
      domainAdmin: true,
      setup: false,
      relogin: async () => (await login(DADMIN)).token,
      targets: [own, other, dave],
    },
    {
      name: 'domain admin (API token domain:a.example)',
      token: tok.body.token,
      admin: false,
      domainAdmin: true,
      setup: false,
      targets: [own, other, dave],
    },
    {
      name: 'user',
      token: (await login(ALICE)).token,
      admin: false,
      domainAdmin: false,
      setup: false,
      relogin: async () => (await login(ALICE)).token,
      targets: [
        { ...own, label: 'itself', user: ALICE, domainMine: false, userMine: true, scopes: [`user:${ALICE}`] },
        { ...own, label: 'another user of its domain', domainMine: false, userMine: false, scopes: [`user:${CAROL}`] },
        other,
      ],
    },
    {
      name: 'TOTP setup required (session)',
      token: erinLogin.token,
      admin: false,
      domainAdmin: false,
      setup: true,
      relogin: async () => (await login(ERIN)).token,
      targets: [
        {
          label: 'itself',
          domain: C,
          user: ERIN,
          alias: `info@${C}`,
          domainMine: false,
          userMine: true,
          scopes: [`user:${ERIN}`],
        },
        { ...own, label: 'another user', domainMine: false, userMine: false, scopes: [`user:${CAROL}`] },
      ],
    },
  ];

  const doc = (await call(api, 'GET', '/api/openapi.json', undefined, null)).body;
  const ops: { method: string; path: string; access: Access }[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>))
    for (const [method, op] of Object.entries(item)) {
      const access = op['x-mailyard-access'] as Access | undefined;
      assert.ok(access, `${method.toUpperCase()} ${path} declares no x-mailyard-access`);
      assert.ok(['admin', 'domain', 'user', 'public'].includes(access.who), `${method} ${path}: who ${access.who}`);
      ops.push({ method: method.toUpperCase(), path, access });
    }
  assert.ok(ops.length >= 40, `only ${ops.length} operations`);
  // The routes this issue added are among them, with the access the issue gives them.
  const who = (m: string, p: string) => ops.find((o) => o.method === m && o.path === p)?.access.who;
  assert.equal(who('POST', '/api/login'), 'public');
  assert.equal(who('PUT', '/api/users/{email}/admin-domains'), 'admin');
  assert.equal(who('POST', '/api/domains'), 'admin');
  assert.equal(who('GET', '/api/blocked-ips'), 'admin');
  assert.equal(who('GET', '/api/queue'), 'admin');
  assert.equal(who('PUT', '/api/domains/{name}/security'), 'domain');
  assert.equal(who('GET', '/api/me'), 'user');

  let n = 0;
  /** Fixtures a call may have removed, put back; the spare objects an id parameter names. */
  const ensure = async () => {
    for (const u of users) if (!repos.users.get(u)) await services.accounts.createUser('test', u, TEST_PASSWORD);
    repos.domainAdmins.set(repos.users.require(DADMIN).id, [A]);
    repos.domainAdmins.set(repos.users.require(DAVE).id, [B]);
    for (const [a, dest] of aliases) if (!repos.aliases.get(a)) services.accounts.createAlias('test', a, [dest]);
  };
  const pathValue = async (param: string, path: string, tg: Target): Promise<string> => {
    if (param === 'name') return tg.domain;
    if (param === 'email') return tg.user;
    if (param === 'address') return tg.alias;
    if (param === 'ip') return '192.0.2.77';
    if (param === 'selector') {
      const selector = `t${++n}`;
      await services.dkim.stage(tg.domain, { selector, keyType: 'ed25519' }, 'test');
      return selector;
    }
    if (param === 'id' && path.startsWith('/api/sessions/'))
      return String(repos.sessions.create(repos.users.require(tg.user).id, Date.now() + 3_600_000).row.id);
    if (param === 'id' && path.startsWith('/api/tokens/'))
      return String(repos.apiTokens.create(`spare-${++n}`, tg.scopes, null, 'test').row.id);
    if (param === 'id' && path.includes('/app-passwords/')) {
      for (const a of services.appPasswords.list(tg.user)) services.appPasswords.revoke('test', tg.user, a.id);
      return String((await services.appPasswords.create('test', tg.user, 'spare', ['imap'])).id);
    }
    if (param === 'id' && path.startsWith('/api/queue/')) return '1';
    throw new Error(`the access test has no value for {${param}} of ${path}; add one`);
  };
  const BODIES: Record<string, (tg: Target) => unknown> = {
    'POST /api/login': (tg) => ({ email: tg.user, password: TEST_PASSWORD }),
    'POST /api/domains': () => ({ name: `new${++n}.example` }),
    'PUT /api/domains/{name}': () => ({ max_users: 0 }),
    'PUT /api/domains/{name}/security': () => ({ spam: { enabled: true } }),
    'POST /api/domains/{name}/dkim': () => ({ selector: `n${++n}`, key_type: 'ed25519' }),
    'POST /api/users': (tg) => ({ email: `new${++n}@${tg.domain}`, password: TEST_PASSWORD }),
    'PUT /api/users/{email}': () => ({ full_name: 'Someone' }),
    'PUT /api/users/{email}/password': () => ({ current_password: TEST_PASSWORD, password: TEST_PASSWORD }),
    'POST /api/aliases': (tg) => ({ address: `alias${++n}@${tg.domain}`, destinations: [tg.user] }),
    'POST /api/users/{email}/app-passwords': () => ({ name: 'phone', scopes: ['imap'] }),
    'POST /api/users/{email}/totp/confirm': () => ({ code: '000000' }),
    'DELETE /api/users/{email}/totp': () => ({ code: '000000' }),
    'POST /api/tokens': (tg) => ({ name: `probe-${++n}`, scopes: tg.scopes }),
    'PUT /api/users/{email}/admin-domains': (tg) => ({ domains: [tg.domain] }),
    'POST /api/blocked-ips': () => ({ ip: '192.0.2.77', minutes: 1 }),
    'POST /api/queue/retry': () => ({ ids: [1] }),
  };

  const seen = { allowed: 0, forbidden: 0, hidden: 0 };
  for (const op of ops)
    for (const caller of callers)
      for (const tg of caller.targets) {
        await ensure();
        const key = `${op.method} ${op.path}`;
        let path = op.path;
        for (const m of op.path.matchAll(/\{(\w+)\}/g))
          path = path.replace(m[0], encodeURIComponent(await pathValue(m[1]!, op.path, tg)));
        const [where, field] = op.access.target?.split(':') ?? [];
        if (where === 'query') path += `?${field}=${encodeURIComponent(tg.domain)}`;
        let body = BODIES[key]?.(tg);
        if (where === 'body') {
          const kind = targetKind(op.access)!;
          body = {
            ...(body as object),
            [field!]: kind === 'domain' ? tg.domain : kind === 'user' ? tg.user : tg.alias,
          };
        }
        if (body === undefined && (op.method === 'POST' || op.method === 'PUT')) body = {};
        const r = await call(api, op.method, path, body, caller.token);
        const want = expected(op.access, caller, tg);
        const what = `${key} as ${caller.name} on ${tg.label} (${JSON.stringify(op.access)}): ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`;
        const forbidden = r.status === 403 && r.body?.error === 'forbidden';
        if (want === 'forbidden') assert.ok(forbidden, `expected 403 forbidden: ${what}`);
        else if (want === 'hidden') assert.equal(r.status, 404, `expected 404: ${what}`);
        else {
          assert.ok(!forbidden, `expected to be allowed: ${what}`);
          if (op.access.who !== 'public') assert.notEqual(r.status, 401, what);
          assert.ok(r.status < 500, what);
        }
        // A domain administrator never reaches another domain through a route that names it.
        if (caller.domainAdmin && tg === other && op.access.target?.includes(':'))
          assert.ok(forbidden, `another domain's target must be 403 forbidden: ${what}`);
        seen[want]++;
        // A call that ended the caller's own session (logout): log in again.
        if (caller.relogin && (await call(api, 'GET', '/api/me', undefined, caller.token)).status === 401)
          caller.token = await caller.relogin();
      }
  // Every kind of outcome happened, many times.
  assert.ok(seen.allowed > 100 && seen.forbidden > 100 && seen.hidden >= 4, JSON.stringify(seen));
});

test('listings show only the caller’s domains; ?domain= of another domain is 403; _default is the admin’s only', async (t) => {
  const { api, app } = await startTestServer(t);
  for (const d of [A, B]) await app.services.domains.create('test', d, true);
  for (const u of [DADMIN, CAROL, BOB]) await app.services.accounts.createUser('test', u, TEST_PASSWORD);
  app.services.accounts.createAlias('test', `info@${A}`, [CAROL]);
  app.services.accounts.createAlias('test', `info@${B}`, [BOB]);
  assert.equal((await call(api, 'PUT', `/api/users/${DADMIN}/admin-domains`, { domains: [A] })).status, 200);
  const token = (await call(api, 'POST', '/api/login', { email: DADMIN, password: TEST_PASSWORD }, null)).body.token;

  const usersSeen = await call(api, 'GET', '/api/users', undefined, token);
  assert.deepEqual(usersSeen.body.map((u: Json) => u.email).sort(), [CAROL, DADMIN]);
  const aliasesSeen = await call(api, 'GET', '/api/aliases', undefined, token);
  assert.deepEqual(
    aliasesSeen.body.map((a: Json) => a.address),
    [`info@${A}`],
  );
  const domainsSeen = await call(api, 'GET', '/api/domains', undefined, token);
  assert.deepEqual(
    domainsSeen.body.map((d: Json) => d.name),
    [A],
  );
  assert.equal((await call(api, 'GET', `/api/users?domain=${A}`, undefined, token)).body.length, 2);
  for (const p of [`/api/users?domain=${B}`, `/api/aliases?domain=${B}`, '/api/users?domain=missing.example']) {
    const r = await call(api, 'GET', p, undefined, token);
    assert.deepEqual([r.status, r.body.error], [403, 'forbidden'], p);
  }
  for (const p of ['/api/domains/_default', '/api/domains/_default/security']) {
    const r = await call(api, 'GET', p, undefined, token);
    assert.deepEqual([r.status, r.body.error], [403, 'forbidden'], p);
    assert.equal((await call(api, 'GET', p)).status, 200, `${p} as the admin`);
  }
  // The admin sees everything.
  assert.equal((await call(api, 'GET', '/api/users')).body.length, 3);
  assert.deepEqual((await call(api, 'GET', '/api/domains')).body.map((d: Json) => d.name).sort(), [A, B]);

  // A missing body target is a 400, not a pass: the check needs to know the address.
  const noEmail = await call(api, 'POST', '/api/users', { password: TEST_PASSWORD }, token);
  assert.deepEqual([noEmail.status, noEmail.body.fields?.[0]?.field], [400, 'email']);

  // Losing the domain takes effect at the next request of the same session.
  assert.equal((await call(api, 'PUT', `/api/users/${DADMIN}/admin-domains`, { domains: [] })).status, 200);
  const after = await call(api, 'GET', '/api/users', undefined, token);
  assert.deepEqual([after.status, after.body.error], [403, 'forbidden']);
  // Its own account stays its own.
  assert.equal((await call(api, 'GET', `/api/users/${DADMIN}`, undefined, token)).status, 200);
  assert.equal((await call(api, 'GET', `/api/users/${CAROL}`, undefined, token)).status, 403);
});
