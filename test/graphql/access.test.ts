// Scopes per field (issue #16): every root field of the schema, read from introspection (so a new field is walked
// without touching this file), is called by a domain administrator of a.example (a login session, and an API token
// with the scope domain:a.example), by a plain user of a.example (a login session) and by the admin token, with
// arguments built from the argument names and types; each call must be FORBIDDEN exactly when the declaration in
// src/graphql/access.ts says so, targeting the caller's own domain or user, another domain's, and another user's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ACCESS, type Access, type RootType, type TargetKind } from '../../src/graphql/access.ts';
import type { NewDeliveryEvent } from '../../src/repos/deliveryEvents.ts';
import { type GqlResult, gql, ok, TOKEN, wsClient, wsSubscribe } from '../helpers/graphql.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

const A = 'a.example';
const B = 'b.example';
const domainOf = (a: string) => a.slice(a.lastIndexOf('@') + 1);

interface Caller {
  name: string;
  token: string;
  admin: boolean;
  manages: Set<string>;
  self: string | null;
  /** The user its user-targeted calls act for. */
  ownUser: string;
  /** Other users: acting for them is FORBIDDEN. */
  foreignUsers: string[];
  tokenScope: string;
  spareToken: number;
}

/** What the test believes the caller may do (independently of access.ts): the model the declaration must meet. */
function targetOk(c: Caller, kind: TargetKind, v: string): boolean {
  if (c.admin) return true;
  if (kind === 'domain') return c.manages.has(v);
  if (kind === 'address') return c.manages.has(domainOf(v));
  return v === c.self || c.manages.has(domainOf(v));
}
function whoOk(c: Caller, who: Access['who']): boolean {
  if (c.admin || who === 'public' || who === 'user') return true;
  return who === 'domain' ? c.manages.size > 0 : false;
}

// ---- introspection -------------------------------------------------------------------------------------------
interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface IField {
  name: string;
  args: { name: string; type: TypeRef; defaultValue: string | null }[];
  type: TypeRef;
}
interface IType {
  kind: string;
  name: string;
  fields: IField[] | null;
  inputFields: { name: string; type: TypeRef; defaultValue: string | null }[] | null;
  enumValues: { name: string }[] | null;
  possibleTypes: { name: string }[] | null;
  interfaces: { name: string }[] | null;
}
const TYPE_REF = 'kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }';
const INTROSPECTION = `{ __schema { queryType { name } mutationType { name } subscriptionType { name } types {
  kind name fields { name args { name type { ${TYPE_REF} } defaultValue } type { ${TYPE_REF} } }
  inputFields { name type { ${TYPE_REF} } defaultValue } enumValues { name } possibleTypes { name } interfaces { name } } } }`;

const named = (t: TypeRef): TypeRef => (t.ofType ? named(t.ofType) : t);

// ---- fixtures ------------------------------------------------------------------------------------------------
let s: Awaited<ReturnType<typeof startTestServer>>;
let types: Map<string, IType>;
let roots: Record<RootType, IField[]>;
let callers: Caller[];
const ids = { domainA: '' };
const spare = { sessions: new Map<string, number>(), appPasswords: new Map<string, number>() };
let seq = 0;
const afterHooks: (() => unknown)[] = [];

const LOGIN = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
  __typename ... on Login { token } ... on Error { message } } }`;

async function login(email: string): Promise<string> {
  const r = await gql(s.api, LOGIN, { e: email, p: TEST_PASSWORD }, null);
  assert.equal(r.data?.login?.__typename, 'Login', `login ${email}: ${JSON.stringify(r)}`);
  return r.data.login.token;
}

async function sessionIdOf(token: string): Promise<number> {
  const r = await gql(s.api, '{ me { user { email } } }', undefined, token);
  const email = r.data.me.user.email;
  const list = (await ok(s.api, 'query($e: String!) { sessions(email: $e) { id } }', { e: email })).sessions;
  return list[0].id;
}

before(async () => {
  s = await startTestServer({ after: (fn) => afterHooks.push(fn) });
  for (const d of [A, B]) await ok(s.api, `mutation { createDomain(name: "${d}") { __typename } }`);
  ids.domainA = (await ok(s.api, `{ domain(name: "${A}") { id } }`)).domain.id;
  for (const u of ['boss', 'ann', 'amy', 'tess', 'gone'])
    await s.app.services.accounts.createUser('t', `${u}@${A}`, TEST_PASSWORD);
  await s.app.services.accounts.createUser('t', `bob@${B}`, TEST_PASSWORD);
  await s.app.services.accounts.createAlias('t', `sales@${A}`, [`ann@${A}`]);
  await s.app.services.accounts.createAlias('t', `old@${A}`, [`ann@${A}`]);
  await s.app.services.accounts.createAlias('t', `info@${B}`, [`bob@${B}`]);
  for (const d of [A, B]) {
    s.app.services.dkim.stage(d, { selector: 'staged1' }, 't');
    s.app.services.dkim.stage(d, { selector: 'retire1' }, 't');
  }
  const made = await ok(
    s.api,
    `mutation { setUserAdminDomains(email: "boss@${A}", domains: ["${A}"]) { __typename ... on User { adminDomains } } }`,
  );
  assert.deepEqual(made.setUserAdminDomains.adminDomains, [A]);
  for (const u of [`ann@${A}`, `tess@${A}`, `bob@${B}`]) {
    const ap = await s.app.services.appPasswords.create('t', u, 'probe', ['imap']);
    spare.appPasswords.set(u, ap.id);
  }
  const token = (name: string, scope: string) => s.app.services.sessions.createToken(adminP(), name, [scope]);
  const daToken = token('domain-admin', `domain:${A}`).token;
  const boss = await login(`boss@${A}`);
  const ann = await login(`ann@${A}`);
  spare.sessions.set(`ann@${A}`, await sessionIdOf(await login(`ann@${A}`)));
  spare.sessions.set(`tess@${A}`, await sessionIdOf(await login(`tess@${A}`)));
  const base = { admin: false, tokenScope: `domain:${A}` };
  callers = [
    {
      ...base,
      name: 'domain admin (session)',
      token: boss,
      manages: new Set([A]),
      self: `boss@${A}`,
      ownUser: `tess@${A}`,
      foreignUsers: [`bob@${B}`],
      spareToken: token('spare-a1', `domain:${A}`).row.id,
    },
    {
      ...base,
      name: 'domain admin (API token)',
      token: daToken,
      manages: new Set([A]),
      self: null,
      ownUser: `tess@${A}`,
      foreignUsers: [`bob@${B}`],
      spareToken: token('spare-a2', `domain:${A}`).row.id,
    },
    {
      ...base,
      name: 'user',
      token: ann,
      manages: new Set(),
      self: `ann@${A}`,
      ownUser: `ann@${A}`,
      foreignUsers: [`amy@${A}`, `bob@${B}`],
      tokenScope: `user:ann@${A}`,
      spareToken: token('spare-ann', `user:ann@${A}`).row.id,
    },
    {
      name: 'admin',
      token: TOKEN,
      admin: true,
      manages: new Set([A, B]),
      self: null,
      ownUser: `tess@${A}`,
      foreignUsers: [],
      tokenScope: 'admin',
      spareToken: token('spare-admin', 'admin').row.id,
    },
  ];
  const schema = (await ok(s.api, INTROSPECTION)).__schema;
  types = new Map(schema.types.map((t: IType) => [t.name, t]));
  roots = {
    Query: types.get(schema.queryType.name)!.fields!,
    Mutation: types.get(schema.mutationType.name)!.fields!,
    Subscription: types.get(schema.subscriptionType.name)!.fields!,
  };
});
after(async () => {
  for (const fn of afterHooks.reverse()) await fn();
});

function adminP() {
  return {
    actor: 'test',
    via: 'admin-token' as const,
    admin: true,
    domains: new Set<string>(),
    user: null,
    totpSetupRequired: false,
    tokenId: null,
    sessionId: null,
    scopes: ['admin'],
  };
}

// ---- arguments -----------------------------------------------------------------------------------------------
/** A valid value of a GraphQL input type (required input fields only). */
function sampleOf(t: TypeRef): unknown {
  if (t.kind === 'NON_NULL') return sampleOf(t.ofType!);
  if (t.kind === 'LIST') return [sampleOf(t.ofType!)];
  const it = types.get(t.name!)!;
  if (it.kind === 'ENUM') return it.enumValues![0]!.name;
  if (it.kind === 'INPUT_OBJECT')
    return Object.fromEntries(
      it
        .inputFields!.filter((f) => f.type.kind === 'NON_NULL' && f.defaultValue === null)
        .map((f) => [f.name, sampleOf(f.type)]),
    );
  switch (t.name) {
    case 'Int':
    case 'SafeInt':
    case 'Float':
      return 1;
    case 'Boolean':
      return false;
    case 'DateTime':
      return new Date(Date.now() + 86_400_000).toISOString();
    case 'ID':
      return '1';
    default:
      return 'x';
  }
}

/** A value of the type that its field would refuse (empty, negative, in the past), still valid GraphQL. */
function badValueOf(t: TypeRef): unknown {
  if (t.kind === 'NON_NULL') return badValueOf(t.ofType!);
  if (t.kind === 'LIST') return [badValueOf(t.ofType!)];
  const it = types.get(t.name!)!;
  if (it.kind === 'ENUM') return it.enumValues![0]!.name;
  if (it.kind === 'INPUT_OBJECT')
    return Object.fromEntries(
      it
        .inputFields!.filter((f) => f.type.kind === 'NON_NULL' && f.defaultValue === null)
        .map((f) => [f.name, badValueOf(f.type)]),
    );
  switch (t.name) {
    case 'Int':
    case 'SafeInt':
    case 'Float':
      return -1;
    case 'Boolean':
      return true;
    case 'DateTime':
      return '2000-01-01T00:00:00.000Z';
    case 'ID':
      return 'garbage';
    default:
      return '';
  }
}

/** `args` with every argument but the targets made invalid (and a page size beyond the maximum). */
function badArgs(f: IField, args: Record<string, unknown>, rule: Access): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const a of f.args) {
    if (a.name === 'first') out.first = 1000;
    else if (a.name in args) out[a.name] = badValueOf(a.type);
  }
  for (const path of Object.keys(rule.targets ?? {})) {
    const v = getPath(args, path);
    if (v !== undefined) out = withPath(out, path, v);
  }
  return out;
}

/** Arguments naming the caller's own things (in a.example), by argument name where it says what it is. */
function ownArgs(root: RootType, f: IField, c: Caller): Record<string, unknown> {
  const n = ++seq;
  const special: Record<string, Record<string, unknown>> = {
    'Query.alias': { address: `sales@${A}` },
    'Mutation.createAlias': { address: `al${n}@${A}`, destinations: [`ann@${A}`] },
    'Mutation.deleteAlias': { address: `old@${A}` },
    'Mutation.createUser': { input: { email: `new${n}@${A}`, password: TEST_PASSWORD } },
    'Mutation.deleteUser': { email: `gone@${A}` },
    'Mutation.setUserPassword': { email: `tess@${A}`, password: `fresh-plover-${n}` },
    'Mutation.changePassword': {
      email: c.ownUser,
      currentPassword: 'not-the-password-1',
      newPassword: 'fresh-plover-58',
    },
    'Mutation.updateUser': { email: c.ownUser, input: { fullName: 'Probe' } },
    'Mutation.updateDomain': { name: A, input: { spfRecord: 'v=spf1 mx -all' } },
    'Mutation.updateDomainSecurity': { name: A, input: { antispam: { enabled: true } } },
    'Mutation.updateDefaultTemplate': { input: { spfRecord: 'v=spf1 mx -all' } },
    'Mutation.stageDkimKey': { domain: A, selector: `s${n}` },
    'Mutation.activateDkimKey': { domain: A, selector: 'staged1' },
    'Mutation.retireDkimKey': { domain: A, selector: 'retire1' },
    'Mutation.createAppPassword': { email: c.ownUser, name: 'probe', scopes: ['IMAP'] },
    'Mutation.revokeAppPassword': { email: c.ownUser, id: spare.appPasswords.get(c.ownUser) ?? 1 },
    'Mutation.revokeSession': { id: spare.sessions.get(c.ownUser) ?? 1 },
    'Mutation.createApiToken': { name: `probe${n}`, scopes: [c.tokenScope] },
    'Mutation.revokeApiToken': { id: c.spareToken },
    'Mutation.login': { email: `ann@${A}`, password: TEST_PASSWORD },
    'Mutation.createDomain': { name: `new${n}.example` },
    'Mutation.deleteDomain': { name: A },
    'Mutation.setUserAdminDomains': { email: `tess@${A}`, domains: [A] },
    'Mutation.disableTotp': { email: c.ownUser, code: '000000' },
    'Query.node': { id: ids.domainA },
    'Query.nodes': { ids: [ids.domainA] },
  };
  const byName: Record<string, unknown> = {
    email: c.ownUser,
    name: A,
    domain: A,
    address: `sales@${A}`,
    selector: 'staged1',
    code: '000000',
    password: TEST_PASSWORD,
    ip: '192.0.2.99',
  };
  const args: Record<string, unknown> = {};
  for (const a of f.args) {
    if (a.type.kind !== 'NON_NULL' || a.defaultValue !== null) continue; // optional: left out (probes add targets)
    args[a.name] = a.name in byName ? byName[a.name] : sampleOf(a.type);
  }
  return { ...args, ...special[`${root}.${f.name}`] };
}

/** Values naming someone else's things for a target, given the caller. */
function foreignValues(path: string, kind: TargetKind, c: Caller): string[] {
  if (kind === 'domain') return [B];
  if (kind === 'user') return c.foreignUsers.length ? c.foreignUsers : [`bob@${B}`];
  if (path === 'address') return [`info@${B}`];
  if (path === 'input.email') return [`new${++seq}@${B}`];
  return [`bob@${B}`];
}
const ownValue = (path: string, kind: TargetKind, c: Caller, base: Record<string, unknown>) => {
  const v = getPath(base, path);
  if (typeof v === 'string') return v;
  return kind === 'domain' ? A : kind === 'user' ? c.ownUser : `sales@${A}`;
};

function getPath(o: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as any)[k] : undefined), o);
}
function withPath(o: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.');
  if (!rest.length) return { ...o, [head!]: value };
  return { ...o, [head!]: withPath((o[head!] as Record<string, unknown>) ?? {}, rest.join('.'), value) };
}

function expectForbidden(c: Caller, rule: Access, args: Record<string, unknown>): boolean {
  if (!whoOk(c, rule.who)) return true;
  for (const [path, kind] of Object.entries(rule.targets ?? {})) {
    const v = getPath(args, path);
    if (typeof v === 'string' && !targetOk(c, kind, v)) return true;
  }
  return false;
}

// ---- calls ---------------------------------------------------------------------------------------------------
function selection(t: TypeRef): string {
  const it = types.get(named(t).name!)!;
  if (it.kind === 'SCALAR' || it.kind === 'ENUM') return '';
  if (it.kind === 'UNION') {
    const errs = it.possibleTypes!.some((p) => types.get(p.name)!.interfaces?.some((i) => i.name === 'Error'));
    return `{ __typename${errs ? ' ... on Error { message }' : ''} }`;
  }
  return '{ __typename }';
}

function gqlTypeOf(t: TypeRef): string {
  if (t.kind === 'NON_NULL') return `${gqlTypeOf(t.ofType!)}!`;
  if (t.kind === 'LIST') return `[${gqlTypeOf(t.ofType!)}]`;
  return t.name!;
}

function operation(root: RootType, f: IField, args: Record<string, unknown>): string {
  const used = f.args.filter((a) => a.name in args);
  const decl = used.length ? `(${used.map((a) => `$${a.name}: ${gqlTypeOf(a.type)}`).join(', ')})` : '';
  const pass = used.length ? `(${used.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  return `${root.toLowerCase()} Probe${decl} { ${f.name}${pass} ${selection(f.type)} }`;
}

type Outcome = 'FORBIDDEN' | 'allowed' | string;

function outcomeOf(r: GqlResult): Outcome {
  if (r.status !== 200) return `HTTP ${r.status}: ${JSON.stringify(r.errors)}`;
  const codes = (r.errors ?? []).map((e) => e.extensions?.code);
  if (codes.includes('FORBIDDEN')) return 'FORBIDDEN';
  const unexpected = (r.errors ?? []).filter(
    (e) => !e.extensions?.code || e.extensions.code === 'INTERNAL_SERVER_ERROR',
  );
  if (unexpected.length) return `unexpected error: ${JSON.stringify(unexpected)}`;
  return 'allowed';
}

const TOPICS = [
  'domain.changed',
  'user.changed',
  'alias.changed',
  'mailbox.changed',
  'delivery',
  'queue.changed',
  'appPassword.changed',
  'blockedIp.changed',
  'auth.failed',
  'audit.recorded',
] as const;
const listeners = () => TOPICS.reduce((n, t) => n + s.app.bus.listenerCount(t), 0);

/** A subscription is FORBIDDEN (its first and only answer) or allowed (it registers on the event bus). */
async function subscribeOutcome(c: Caller, query: string, variables: Record<string, unknown>): Promise<Outcome> {
  const client = wsClient(s.api, c.token);
  const idle = listeners();
  try {
    const sub = wsSubscribe(client, query, variables);
    let answer: any;
    void sub.next(10_000).then(
      (v) => (answer = v),
      () => {},
    );
    await waitUntil(() => answer !== undefined || listeners() > idle, 'a subscription answer or registration');
    if (answer === undefined) return 'allowed';
    if (answer.error) return `error: ${String(answer.error?.reason ?? answer.error)}`;
    return outcomeOf({ status: 200, ...answer });
  } finally {
    // (A disposed subscription's bus listener goes at the topic's next event: the count only compares.)
    await client.dispose();
  }
}

async function call(c: Caller, root: RootType, f: IField, args: Record<string, unknown>): Promise<Outcome> {
  const query = operation(root, f, args);
  if (root === 'Subscription') return subscribeOutcome(c, query, args);
  return outcomeOf(await gql(s.api, query, args, c.token));
}

interface Probe {
  field: string;
  what: string;
  args: Record<string, unknown>;
  expected: 'FORBIDDEN' | 'allowed';
}

function probes(root: RootType, f: IField, c: Caller, rule: Access): Probe[] {
  const field = `${root}.${f.name}`;
  const base = ownArgs(root, f, c);
  const out: Probe[] = [
    { field, what: 'own targets', args: base, expected: expectForbidden(c, rule, base) ? 'FORBIDDEN' : 'allowed' },
  ];
  for (const [path, kind] of Object.entries(rule.targets ?? {})) {
    const own = withPath(base, path, ownValue(path, kind, c, base));
    if (getPath(base, path) === undefined)
      out.push({
        field,
        what: `${path} = own ${getPath(own, path)}`,
        args: own,
        expected: expectForbidden(c, rule, own) ? 'FORBIDDEN' : 'allowed',
      });
    for (const v of foreignValues(path, kind, c)) {
      const args = withPath(base, path, v);
      out.push({
        field,
        what: `${path} = ${v}`,
        args,
        expected: expectForbidden(c, rule, args) ? 'FORBIDDEN' : 'allowed',
      });
    }
  }
  // Whatever else it sends, a caller without the scope gets FORBIDDEN (never a ValidationError or other answer).
  for (const p of [...out])
    if (p.expected === 'FORBIDDEN')
      out.push({ ...p, what: `${p.what}, other arguments invalid`, args: badArgs(f, p.args, rule) });
  return out;
}

// ---- the tests -----------------------------------------------------------------------------------------------
test('every root field (from introspection) is declared in ACCESS, and ACCESS names only existing fields', () => {
  const problems: string[] = [];
  for (const root of ['Query', 'Mutation', 'Subscription'] as const) {
    const names = roots[root].map((f) => f.name);
    for (const n of names) if (!ACCESS[root][n]) problems.push(`${root}.${n} is not declared`);
    for (const n of Object.keys(ACCESS[root])) if (!names.includes(n)) problems.push(`${root}.${n} does not exist`);
  }
  assert.deepEqual(problems, []);
  assert.ok(roots.Query.length > 10 && roots.Mutation.length > 30, 'introspection saw the schema');
});

const as = (c: Caller, query: string, variables?: Record<string, unknown>) => gql(s.api, query, variables, c.token);
const caller = (name: string) => callers.find((c) => c.name === name)!;
const codes = (r: GqlResult) => (r.errors ?? []).map((e) => e.extensions?.code);

test('a domain administrator lists only its own domains, their users and aliases, and hears only their changes', async () => {
  for (const c of [caller('domain admin (session)'), caller('domain admin (API token)')]) {
    const r = (
      await as(
        c,
        '{ domains { totalCount nodes { name } } users { totalCount nodes { email } } aliases { totalCount nodes { address } } }',
      )
    ).data;
    assert.deepEqual(r.domains, { totalCount: 1, nodes: [{ name: A }] }, c.name);
    assert.ok(
      r.users.nodes.length >= 5 && r.users.nodes.every((u: { email: string }) => domainOf(u.email) === A),
      c.name,
    );
    assert.equal(r.users.totalCount, r.users.nodes.length);
    assert.deepEqual(r.aliases.nodes.map((a: { address: string }) => a.address).sort(), [`old@${A}`, `sales@${A}`]);
    assert.equal(r.aliases.totalCount, 2);
    const filtered = await as(c, '{ domains(filter: { nameContains: "example" }) { totalCount nodes { name } } }');
    assert.deepEqual(filtered.data.domains, { totalCount: 1, nodes: [{ name: A }] });
  }
  const boss = caller('domain admin (session)');
  const client = wsClient(s.api, boss.token);
  try {
    const idle = s.app.bus.listenerCount('domain.changed');
    const sub = wsSubscribe(client, 'subscription { configChanged { domain fields } }');
    await waitUntil(() => s.app.bus.listenerCount('domain.changed') > idle, 'the configChanged subscription');
    for (const d of [B, A])
      await ok(s.api, `mutation { updateDomain(name: "${d}", input: { spfRecord: "v=spf1 -all" }) { __typename } }`);
    const ev = await sub.next();
    assert.equal(ev.data.configChanged.domain, A, 'the change of b.example was not sent');
  } finally {
    await client.dispose();
  }
});

test('nested fields lead nowhere else: a user reads its domain’s name only; adminDomains shows shared domains only', async () => {
  const ann = caller('user');
  const boss = caller('domain admin (session)');
  const own = await as(ann, `{ user(email: "ann@${A}") { email domain { name } } me { user { adminDomains } } }`);
  assert.deepEqual(own.data, { user: { email: `ann@${A}`, domain: { name: A } }, me: { user: { adminDomains: [] } } });
  for (const q of [
    `{ user(email: "ann@${A}") { domain { users { totalCount } } } }`,
    '{ me { user { domain { dkimKeys { selector } } } } }',
    '{ me { user { domain { aliases { nodes { address } } } } } }',
    '{ me { user { domain { auth { totpEnforced } } } } }',
  ]) {
    const r = await as(ann, q);
    assert.deepEqual(codes(r), ['FORBIDDEN'], q);
    assert.equal(JSON.stringify(r.data).includes('@'), false, q);
  }
  const alias = await as(boss, `{ alias(address: "sales@${A}") { domain { name users { totalCount } } } }`);
  assert.equal(alias.errors, undefined);
  await ok(s.api, `mutation { setUserAdminDomains(email: "tess@${A}", domains: ["${A}", "${B}"]) { __typename } }`);
  const q = `{ users(filter: { domain: "${A}" }) { nodes { email adminDomains } } }`;
  const tess = (r: { users: { nodes: { email: string; adminDomains: string[] }[] } }) =>
    r.users.nodes.find((u) => u.email === `tess@${A}`)!.adminDomains;
  assert.deepEqual(tess((await as(boss, q)).data), [A], 'only the domains boss administers too');
  assert.deepEqual(tess(await ok(s.api, q)), [A, B]);
  await ok(s.api, `mutation { setUserAdminDomains(email: "tess@${A}", domains: []) { __typename } }`);
  // An alias of b.example forwarding to ann: ann and the admin see it among her aliases, a.example's administrator not.
  await s.app.services.accounts.createAlias('t', `fwd@${B}`, [`ann@${A}`]);
  const aliases = `{ user(email: "ann@${A}") { aliases } }`;
  assert.deepEqual((await as(ann, aliases)).data.user.aliases.sort(), [`fwd@${B}`, `old@${A}`, `sales@${A}`]);
  assert.deepEqual((await as(boss, aliases)).data.user.aliases.sort(), [`old@${A}`, `sales@${A}`]);
  assert.deepEqual((await ok(s.api, aliases)).user.aliases.sort(), [`fwd@${B}`, `old@${A}`, `sales@${A}`]);
  await s.app.services.accounts.deleteAlias('t', `fwd@${B}`);
});

test('no escalation: a domain administrator cannot act for a user who administers another domain, but still lists it', async () => {
  const boss = caller('domain admin (session)');
  await ok(s.api, `mutation { setUserAdminDomains(email: "tess@${A}", domains: ["${A}", "${B}"]) { __typename } }`);
  await ok(s.api, `mutation { setUserAdminDomains(email: "amy@${A}", domains: ["${A}"]) { __typename } }`);
  try {
    for (const q of [
      `mutation { setUserPassword(email: "tess@${A}", password: "taken-over-58") { __typename } }`,
      `mutation { deleteUser(email: "tess@${A}") { __typename } }`,
      `mutation { createAppPassword(email: "tess@${A}", name: "x", scopes: [IMAP]) { __typename } }`,
      `mutation { disableTotp(email: "tess@${A}") { __typename } }`,
      `{ sessions(email: "tess@${A}") { id } }`,
    ])
      assert.deepEqual(codes(await as(boss, q)), ['FORBIDDEN'], q);
    const listed = await as(boss, `{ users(filter: { domain: "${A}" }) { nodes { email adminDomains } } }`);
    assert.equal(listed.errors, undefined);
    assert.deepEqual(
      listed.data.users.nodes.find((u: { email: string }) => u.email === `tess@${A}`),
      { email: `tess@${A}`, adminDomains: [A] },
    );
    // A fellow administrator of the same domain only is fair game.
    const peer = await as(
      boss,
      `mutation { setUserPassword(email: "amy@${A}", password: "${TEST_PASSWORD}") { __typename } }`,
    );
    assert.equal(peer.data.setUserPassword.__typename, 'User');
  } finally {
    for (const u of ['tess', 'amy'])
      await ok(s.api, `mutation { setUserAdminDomains(email: "${u}@${A}", domains: []) { __typename } }`);
  }
});

test('deliveryEvents: a user sees its own mail, a domain administrator its domains’; other recipients are left out', async () => {
  const ev = (over: Partial<NewDeliveryEvent>): NewDeliveryEvent => ({
    type: 'RECEIVED',
    messageId: null,
    queueId: null,
    sender: 'x@remote.example',
    recipients: [],
    domain: A,
    userEmail: null,
    remoteIp: '192.0.2.7',
    reason: null,
    details: null,
    ...over,
  });
  const record = (over: Partial<NewDeliveryEvent>) => s.app.repos.deliveryEvents.record(ev(over)).id;
  const inbound = record({ recipients: [`ann@${A}`, `bob@${B}`] });
  const other = record({ domain: B, recipients: [`bob@${B}`] });
  const sent = record({ userEmail: `ann@${A}`, sender: `ann@${A}`, recipients: ['x@remote.example', `bob@${B}`] });
  const amys = record({ type: 'DELIVERED_LOCAL', userEmail: `amy@${A}`, recipients: [`amy@${A}`] });
  const bobs = record({
    type: 'DELIVERY_ATTEMPT',
    domain: 'remote.example',
    sender: `bob@${B}`,
    recipients: ['y@remote.example', `ann@${A}`],
    details: { replies: { 'y@remote.example': '250 ok', [`ann@${A}`]: '250 ok' } },
  });
  const Q = '{ deliveryEvents(first: 100) { nodes { id recipients details } } }';
  const seen = async (c: Caller) =>
    Object.fromEntries(
      (await as(c, Q)).data.deliveryEvents.nodes.map(
        (n: { id: number; recipients: string[]; details: string | null }) => [
          n.id,
          { recipients: n.recipients, details: n.details ? JSON.parse(n.details) : null },
        ],
      ),
    );
  const boss = await seen(caller('domain admin (session)'));
  assert.deepEqual(Object.keys(boss).map(Number), [inbound, sent, amys, bobs]);
  assert.deepEqual(boss[inbound].recipients, [`ann@${A}`], 'the b.example recipient is left out');
  assert.deepEqual(boss[sent].recipients, ['x@remote.example', `bob@${B}`], 'mail from its domain: all recipients');
  assert.deepEqual(boss[bobs], { recipients: [`ann@${A}`], details: { replies: { [`ann@${A}`]: '250 ok' } } });
  const ann = await seen(caller('user'));
  assert.deepEqual(Object.keys(ann).map(Number), [inbound, sent, bobs]);
  assert.deepEqual(ann[inbound].recipients, [`ann@${A}`]);
  assert.equal(other in ann || amys in ann, false);

  // Live: the user's subscription gets only its own events, trimmed the same way.
  const client = wsClient(s.api, caller('user').token);
  try {
    const idle = s.app.bus.listenerCount('delivery');
    const sub = wsSubscribe(client, 'subscription { deliveryEvents { event { id recipients } } }');
    await waitUntil(() => s.app.bus.listenerCount('delivery') > idle, 'the deliveryEvents subscription');
    record({ domain: B, recipients: [`bob@${B}`] });
    record({ type: 'DELIVERED_LOCAL', userEmail: `amy@${A}`, recipients: [`amy@${A}`] });
    const mine = record({ recipients: [`bob@${B}`, `ann@${A}`] });
    const got = await sub.next();
    assert.deepEqual(got.data.deliveryEvents.event, { id: mine, recipients: [`ann@${A}`] });
  } finally {
    await client.dispose();
  }
});

test('admin-only settings, quotas and status: FORBIDDEN to a domain administrator or user; its own name is the user’s', async () => {
  const boss = caller('domain admin (session)');
  const ann = caller('user');
  const RESULT = '{ __typename ... on Error { message } }';
  const update = (c: Caller, input: string, field = 'updateDomain') =>
    as(c, `mutation { ${field}(name: "${A}", input: ${input}) ${RESULT} }`);
  for (const input of [
    '{ status: DISABLED }',
    '{ maxUsers: 5 }',
    '{ maxMailboxSize: 0 }',
    '{ backupMx: true }',
    '{ rateLimits: { enabled: false } }',
  ])
    assert.deepEqual(codes(await update(boss, input)), ['FORBIDDEN'], input);
  assert.deepEqual(codes(await update(boss, '{ rateLimits: { enabled: false } }', 'updateDomainSecurity')), [
    'FORBIDDEN',
  ]);
  assert.equal(
    (await update(boss, '{ spfRecord: "v=spf1 mx -all", dmarc: { policy: QUARANTINE } }')).data.updateDomain.__typename,
    'Domain',
  );
  assert.equal(
    (await update(boss, '{ auth: { totpEnforced: false } }', 'updateDomainSecurity')).data.updateDomainSecurity
      .__typename,
    'Domain',
  );

  await ok(s.api, `mutation { updateDomain(name: "${A}", input: { maxMailboxSize: 1000000 }) { __typename } }`);
  try {
    assert.deepEqual(codes(await update(boss, '{ defaultQuota: 2000000 }')), ['FORBIDDEN']);
    assert.equal((await update(boss, '{ defaultQuota: 500000 }')).data.updateDomain.__typename, 'Domain');
    const setQuota = (c: Caller, email: string, quota: number) =>
      as(c, `mutation { updateUser(email: "${email}", input: { quota: ${quota} }) ${RESULT} }`);
    assert.deepEqual(codes(await setQuota(boss, `ann@${A}`, 2_000_000)), ['FORBIDDEN']);
    assert.deepEqual(codes(await setQuota(boss, `ann@${A}`, 0)), ['FORBIDDEN'], '0 = unlimited');
    assert.equal((await setQuota(boss, `ann@${A}`, 500_000)).data.updateUser.__typename, 'User');
    const big = await as(
      boss,
      `mutation { createUser(input: { email: "big@${A}", password: "${TEST_PASSWORD}", quota: 2000000 }) ${RESULT} }`,
    );
    assert.deepEqual(codes(big), ['FORBIDDEN']);
    assert.deepEqual(codes(await setQuota(ann, `ann@${A}`, 1)), ['FORBIDDEN']);
  } finally {
    await ok(s.api, `mutation { updateDomain(name: "${A}", input: { maxMailboxSize: 0 }) { __typename } }`);
  }
  const status = await as(ann, `mutation { updateUser(email: "ann@${A}", input: { status: DISABLED }) ${RESULT} }`);
  assert.deepEqual(codes(status), ['FORBIDDEN']);
  const name = await as(
    ann,
    `mutation { updateUser(email: "ann@${A}", input: { fullName: "Ann A." }) { __typename ... on User { fullName } } }`,
  );
  assert.deepEqual(name.data.updateUser, { __typename: 'User', fullName: 'Ann A.' });
  // Turning TOTP off without a code: only whoever administers the user.
  const DISABLE = `mutation { disableTotp(email: "ann@${A}") ${RESULT} }`;
  assert.deepEqual(codes(await as(ann, DISABLE)), ['FORBIDDEN']);
  assert.equal((await as(boss, DISABLE)).data.disableTotp.__typename, 'ConflictError', 'allowed (TOTP is not on)');
});

test('sessions and API tokens of other domains are neither listed nor revocable; token scopes stay within the caller’s', async () => {
  const boss = caller('domain admin (session)');
  const ann = caller('user');
  const bob = await login(`bob@${B}`);
  const bobSession = await sessionIdOf(bob);
  const r = await as(boss, `mutation { revokeSession(id: ${bobSession}) { __typename } }`);
  assert.equal(r.data.revokeSession.__typename, 'NotFoundError');
  assert.equal((await gql(s.api, '{ me { actor } }', undefined, bob)).status, 200, "bob's session still works");
  assert.deepEqual(codes(await as(boss, `{ sessions(email: "bob@${B}") { id } }`)), ['FORBIDDEN']);

  const bTok = s.app.services.sessions.createToken(adminP(), 'b-token', [`domain:${B}`]).row.id;
  const listed = (await as(boss, '{ apiTokens { id scopes } }')).data.apiTokens as { id: number; scopes: string[] }[];
  assert.ok(listed.length > 0);
  for (const t of listed) for (const sc of t.scopes) assert.ok(sc === `domain:${A}` || sc.endsWith(`@${A}`), sc);
  assert.equal(
    (await as(boss, `mutation { revokeApiToken(id: ${bTok}) { __typename } }`)).data.revokeApiToken.__typename,
    'NotFoundError',
  );
  const annSees = (await as(ann, '{ apiTokens { scopes } }')).data.apiTokens as { scopes: string[] }[];
  assert.ok(annSees.every((t) => t.scopes.every((sc) => sc === `user:ann@${A}`)));

  const create = (c: Caller, scopes: string[]) =>
    as(c, 'mutation($s: [String!]!) { createApiToken(name: "t", scopes: $s) { __typename } }', { s: scopes });
  for (const sc of ['admin', `domain:${B}`, `user:bob@${B}`])
    assert.deepEqual(codes(await create(boss, [sc])), ['FORBIDDEN'], sc);
  for (const sc of [`domain:${A}`, `user:amy@${A}`])
    assert.deepEqual(codes(await create(ann, [sc])), ['FORBIDDEN'], sc);
  assert.equal(
    (await create(boss, [`domain:${A}`, `user:ann@${A}`])).data.createApiToken.__typename,
    'CreatedApiToken',
  );
});

for (const who of ['domain admin (session)', 'domain admin (API token)', 'user', 'admin']) {
  test(`every root field as ${who}: FORBIDDEN exactly as declared, for own, other-domain and other-user targets`, async () => {
    const c = callers.find((x) => x.name === who)!;
    const mismatches: string[] = [];
    let calls = 0;
    // logout last: it ends the session the other calls use.
    const order = (fields: IField[]) =>
      [...fields].sort((a, b) => Number(a.name === 'logout') - Number(b.name === 'logout'));
    for (const root of ['Query', 'Subscription', 'Mutation'] as const)
      for (const f of order(roots[root])) {
        const rule = ACCESS[root][f.name];
        if (!rule) {
          mismatches.push(`${root}.${f.name}: not declared`);
          continue;
        }
        for (const p of probes(root, f, c, rule)) {
          const got = await call(c, root, f, p.args);
          calls++;
          if (got !== p.expected) mismatches.push(`${p.field} (${p.what}): expected ${p.expected}, got ${got}`);
        }
      }
    assert.deepEqual(mismatches, []);
    assert.ok(calls > 60, `${calls} calls`);
  });
}
