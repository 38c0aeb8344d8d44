// Scopes per field (issue #16): every root field of the schema, read from introspection (so a new field is walked
// without touching this file), is called by a domain administrator of a.example (a login session, and an API token
// with the scope domain:a.example), by a plain user of a.example (a login session) and by the admin token, with
// arguments built from the argument names and types; each call must be FORBIDDEN exactly when the declaration in
// src/graphql/access.ts says so, targeting the caller's own domain or user, another domain's, and another user's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ACCESS, type Access, type RootType, type TargetKind } from '../../src/graphql/access.ts';
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
