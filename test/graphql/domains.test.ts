import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { gql, ok } from '../helpers/graphql.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';

const DOMAIN_FIELDS = `
  __typename
  ... on Domain {
    id name isTemplate status maxUsers defaultQuota catchallEmail
    dkim { signingEnabled verifyEnabled keyType keySize selector publicKey dnsRecord dnsRecordName dnsPublicKey }
    spf { enabled failAction softfailAction maxLookups }
    dmarc { enabled policy reportEnabled reportEmail }
    antivirus { enabled maxScanSize virusAction failAction }
    antispam { enabled rejectScore quarantineScore learningEnabled }
    greylist { enabled delayMinutes expiryDays whitelistAfter }
    rateLimits { enabled smtpPerIp { count windowMinutes } authPerIp { count windowMinutes } }
    auth { totpEnforced bruteForceEnabled bruteForceThreshold bruteForceWindowMinutes bruteForceBlockMinutes }
  }
  ... on ValidationError { message fieldErrors { path message } }
  ... on NotFoundError { message entity key }
  ... on ConflictError { message }
`;
const DELETE_FIELDS = `__typename ... on Deleted { id key } ... on NotFoundError { message } ... on ConflictError { message }`;

const CREATE = `mutation($name: String!, $tpl: Boolean, $o: DomainSettingsInput) {
  createDomain(name: $name, useDefaultTemplate: $tpl, overrides: $o) { ${DOMAIN_FIELDS} } }`;
const SECURITY = `mutation($name: String!, $input: DomainSecurityInput!) {
  updateDomainSecurity(name: $name, input: $input) { ${DOMAIN_FIELDS} } }`;

/** The DKIM key works: sign with the stored private key, verify with the published public key. */
function assertDkimPair(app: any, name: string, dnsRecord: string) {
  const row = app.repos.domains.get(name);
  const p = /p=([A-Za-z0-9+/=]+)/.exec(dnsRecord)![1]!;
  const type = /k=(\w+)/.exec(dnsRecord)![1];
  const pub =
    type === 'ed25519'
      ? createPublicKey({
          key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(p, 'base64')]),
          format: 'der',
          type: 'spki',
        })
      : createPublicKey({ key: Buffer.from(p, 'base64'), format: 'der', type: 'spki' });
  const data = Buffer.from('dkim test');
  const sig = sign(type === 'ed25519' ? null : 'sha256', data, createPrivateKey(row.dkim_private_key));
  assert.ok(verify(type === 'ed25519' ? null : 'sha256', data, pub, sig));
}

test('createDomain copies the _default template and generates a working DKIM key pair', async (t) => {
  const { api, app } = await startTestServer(t);
  const { createDomain: d } = await ok(api, CREATE, { name: 'Example.COM' });
  assert.equal(d.__typename, 'Domain');
  assert.equal(d.name, 'example.com');
  assert.equal(d.isTemplate, false);
  assert.deepEqual(d.dkim.keyType, 'RSA');
  assert.equal(d.dkim.keySize, 2048);
  assert.equal(d.dkim.dnsRecordName, 'default._domainkey.example.com');
  assert.match(d.dkim.dnsRecord, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
  assert.match(d.dkim.publicKey, /BEGIN PUBLIC KEY/);
  assert.deepEqual(d.antispam, { enabled: true, rejectScore: 10, quarantineScore: 5, learningEnabled: true });
  assert.deepEqual(d.spf, { enabled: true, failAction: 'REJECT', softfailAction: 'ACCEPT', maxLookups: 10 });
  assert.deepEqual(d.rateLimits.smtpPerIp, { count: 100, windowMinutes: 60 });
  assert.equal(d.auth.totpEnforced, false);
  assertDkimPair(app, 'example.com', d.dkim.dnsRecord);
  const tpl = await ok(api, '{ defaultTemplate { name isTemplate dkim { publicKey dnsRecord } } }');
  assert.deepEqual(tpl.defaultTemplate, {
    name: '_default',
    isTemplate: true,
    dkim: { publicKey: null, dnsRecord: null },
  });
});

test('createDomain errors: duplicate -> ConflictError, bad name and bad overrides -> ValidationError with paths, nothing stored', async (t) => {
  const { api, app } = await startTestServer(t);
  await ok(api, CREATE, { name: 'dup.example' });
  const dup = await ok(api, CREATE, { name: 'DUP.example.' });
  assert.equal(dup.createDomain.__typename, 'ConflictError');
  assert.match(dup.createDomain.message, /already exists/);

  const bad = await ok(api, CREATE, { name: 'not a domain' });
  assert.equal(bad.createDomain.__typename, 'ValidationError');
  assert.deepEqual(
    bad.createDomain.fieldErrors.map((e: any) => e.path),
    [['name']],
  );

  const empty = await ok(api, CREATE, { name: '' });
  assert.equal(empty.createDomain.__typename, 'ValidationError');

  const o = await ok(api, CREATE, {
    name: 'bad-overrides.example',
    o: {
      antispam: { rejectScore: 500000 },
      dkim: { keySize: 3000 },
      greylist: { delayMinutes: -1 },
      rateLimits: { authPerIp: { count: 0, windowMinutes: 5 } },
    },
  });
  assert.equal(o.createDomain.__typename, 'ValidationError');
  assert.deepEqual(
    o.createDomain.fieldErrors.map((e: any) => e.path.join('.')).sort(),
    [
      'overrides.antispam.rejectScore',
      'overrides.dkim.keySize',
      'overrides.greylist.delayMinutes',
      'overrides.rateLimits.authPerIp.count',
    ].sort(),
  );
  assert.equal(app.repos.domains.get('bad-overrides.example'), undefined);
  assert.equal(app.repos.domains.count(), 1);
});

test('createDomain without the template: column defaults plus overrides (company2 from the guide)', async (t) => {
  const { api } = await startTestServer(t);
  await ok(api, 'mutation { updateDefaultTemplate(input: { antispam: { rejectScore: 7 } }) { __typename } }');
  const { createDomain: d } = await ok(api, CREATE, {
    name: 'company2.com',
    tpl: false,
    o: {
      status: 'ACTIVE',
      maxUsers: 50,
      defaultQuota: 2147483648,
      dkim: { signingEnabled: true },
      spf: { enabled: true },
      auth: { totpEnforced: true },
    },
  });
  assert.equal(d.maxUsers, 50);
  assert.equal(d.defaultQuota, 2147483648);
  assert.equal(d.auth.totpEnforced, true);
  assert.equal(d.antispam.rejectScore, 10, 'not from the (changed) template');
  const { createDomain: c1 } = await ok(api, CREATE, { name: 'company1.com' });
  assert.equal(c1.antispam.rejectScore, 7, 'from the template');
});

test('updateDomainSecurity deep-merges: omitted sections and fields keep their values; partial rules merge', async (t) => {
  const { api, app } = await startTestServer(t);
  await ok(api, CREATE, { name: 'merge.example' });
  const before = app.repos.domains.get('merge.example');
  const { updateDomainSecurity: d } = await ok(api, SECURITY, {
    name: 'merge.example',
    input: { antispam: { rejectScore: 12 }, auth: { totpEnforced: true }, rateLimits: { smtpPerIp: { count: 50 } } },
  });
  assert.equal(d.antispam.rejectScore, 12);
  assert.equal(d.antispam.quarantineScore, 5);
  assert.equal(d.antispam.enabled, true);
  assert.equal(d.auth.totpEnforced, true);
  assert.equal(d.auth.bruteForceThreshold, 5);
  assert.deepEqual(d.rateLimits.smtpPerIp, { count: 50, windowMinutes: 60 });
  const after: Record<string, unknown> = app.repos.domains.get('merge.example')!;
  const changed = Object.keys(after).filter((k) => JSON.stringify(after[k]) !== JSON.stringify((before as any)[k]));
  assert.deepEqual(changed.sort(), ['auth_totp_enforced', 'ratelimit_smtp_per_ip', 'spam_reject_score', 'updated_at']);
  assert.equal(after.dkim_private_key, before!.dkim_private_key, 'no DKIM rekey without a key change');
});

test('security updates validate everything and change nothing on error (incl. cross-field rules)', async (t) => {
  const { api, app } = await startTestServer(t);
  await ok(api, CREATE, { name: 'strict.example' });
  const before = JSON.stringify(app.repos.domains.get('strict.example'));
  const r = await ok(api, SECURITY, { name: 'strict.example', input: { antispam: { quarantineScore: 20 } } });
  assert.equal(r.updateDomainSecurity.__typename, 'ValidationError');
  assert.deepEqual(r.updateDomainSecurity.fieldErrors, [
    { path: ['input', 'antispam', 'quarantineScore'], message: 'quarantine score must not exceed the reject score' },
  ]);
  const r2 = await ok(api, SECURITY, {
    name: 'strict.example',
    input: {
      dmarc: { reportEmail: 'not-an-address' },
      dkim: { selector: 'bad selector!', headersToSign: ['Subject'] },
    },
  });
  assert.deepEqual(r2.updateDomainSecurity.fieldErrors.map((e: any) => e.path.join('.')).sort(), [
    'input.dkim.headersToSign',
    'input.dkim.selector',
    'input.dmarc.reportEmail',
  ]);
  assert.equal(JSON.stringify(app.repos.domains.get('strict.example')), before);
  const nf = await ok(api, SECURITY, { name: 'missing.example', input: { spf: { enabled: false } } });
  assert.equal(nf.updateDomainSecurity.__typename, 'NotFoundError');
  assert.equal(nf.updateDomainSecurity.key, 'missing.example');
  // A wrong GraphQL type is rejected by GraphQL itself (HTTP 400) before any resolver runs.
  const typed = await gql(api, SECURITY, { name: 'strict.example', input: { antispam: { rejectScore: 'high' } } });
  assert.equal(typed.status, 400);
  assert.match(typed.errors?.[0]?.message ?? '', /input\.antispam\.rejectScore.*Float cannot represent/);
});

test('changing the DKIM key size regenerates the key; rotateDkimKey switches to ed25519 with a new selector', async (t) => {
  const { api, app } = await startTestServer(t);
  const { createDomain: d0 } = await ok(api, CREATE, { name: 'keys.example' });
  const { updateDomainSecurity: d1 } = await ok(api, SECURITY, {
    name: 'keys.example',
    input: { dkim: { keySize: 4096 } },
  });
  assert.equal(d1.dkim.keySize, 4096);
  assert.notEqual(d1.dkim.publicKey, d0.dkim.publicKey);
  assert.equal(createPublicKey(d1.dkim.publicKey).asymmetricKeyDetails?.modulusLength, 4096);
  assertDkimPair(app, 'keys.example', d1.dkim.dnsRecord);
  const { rotateDkimKey: d2 } = await ok(
    api,
    `mutation { rotateDkimKey(domain: "keys.example", keyType: ED25519, selector: "s2026") { ${DOMAIN_FIELDS} } }`,
  );
  assert.equal(d2.dkim.keyType, 'ED25519');
  assert.equal(d2.dkim.selector, 's2026');
  assert.equal(d2.dkim.dnsRecordName, 's2026._domainkey.keys.example');
  assert.match(d2.dkim.dnsRecord, /^v=DKIM1; k=ed25519; p=/);
  assert.equal(Buffer.from(d2.dkim.dnsPublicKey, 'base64').length, 32);
  assertDkimPair(app, 'keys.example', d2.dkim.dnsRecord);
  const bad = await ok(api, `mutation { rotateDkimKey(domain: "keys.example", keySize: 512) { ${DOMAIN_FIELDS} } }`);
  assert.deepEqual(
    bad.rotateDkimKey.fieldErrors.map((e: any) => e.path),
    [['keySize']],
  );
});

test('updateDomain changes general fields; deleteDomain refuses while users exist unless force', async (t) => {
  const { api, app } = await startTestServer(t);
  await ok(api, CREATE, { name: 'gen.example' });
  const { updateDomain: d } = await ok(
    api,
    `mutation { updateDomain(name: "gen.example", input: { status: DISABLED, maxUsers: 3, catchallEmail: "all@gen.example", greylist: { enabled: false } }) { ${DOMAIN_FIELDS} } }`,
  );
  assert.equal(d.status, 'DISABLED');
  assert.equal(d.maxUsers, 3);
  assert.equal(d.catchallEmail, 'all@gen.example');
  assert.equal(d.greylist.enabled, false);
  await app.services.accounts.createUser('test', 'u@gen.example', TEST_PASSWORD);
  const refused = await ok(api, `mutation { deleteDomain(name: "gen.example") { ${DELETE_FIELDS} } }`);
  assert.equal(refused.deleteDomain.__typename, 'ConflictError');
  assert.match(refused.deleteDomain.message, /still has 1 user/);
  const forced = await ok(api, `mutation { deleteDomain(name: "gen.example", force: true) { ${DELETE_FIELDS} } }`);
  assert.equal(forced.deleteDomain.__typename, 'Deleted');
  assert.equal(app.repos.users.get('u@gen.example'), undefined);
  const again = await ok(api, `mutation { deleteDomain(name: "gen.example") { ${DELETE_FIELDS} } }`);
  assert.equal(again.deleteDomain.__typename, 'NotFoundError');
  const tpl = await ok(api, `mutation { deleteDomain(name: "_default") { ${DELETE_FIELDS} } }`);
  assert.equal(tpl.deleteDomain.__typename, 'ConflictError');
});

test('hot reload: a policy change through GraphQL is seen by the very next reader of domain settings', async (t) => {
  const { api, app } = await startTestServer(t);
  await ok(api, CREATE, { name: 'hot.example' });
  assert.equal(app.repos.domains.get('hot.example')?.spam_reject_score, 10);
  await ok(api, SECURITY, {
    name: 'hot.example',
    input: { antispam: { rejectScore: 12.5 }, greylist: { enabled: false } },
  });
  const d = app.repos.domains.get('hot.example')!;
  assert.equal(d.spam_reject_score, 12.5);
  assert.equal(d.greylist_enabled, false);
});

test('domains: cursor connection with totalCount, filters and a maximum page size; node refetch by id', async (t) => {
  const { api, app } = await startTestServer(t);
  for (const n of ['a1', 'b2', 'c3', 'd4', 'e5']) app.repos.domains.create(`${n}.example`, { useTemplate: true });
  app.repos.domains.update('c3.example', { status: 'disabled' });
  const q = `query($after: String, $f: DomainFilter) { domains(first: 2, after: $after, filter: $f) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name } } } }`;
  const p1 = (await ok(api, q)).domains;
  assert.equal(p1.totalCount, 5);
  assert.deepEqual(
    p1.edges.map((e: any) => e.node.name),
    ['a1.example', 'b2.example'],
  );
  assert.equal(p1.pageInfo.hasNextPage, true);
  const p2 = (await ok(api, q, { after: p1.pageInfo.endCursor })).domains;
  assert.deepEqual(
    p2.edges.map((e: any) => e.node.name),
    ['c3.example', 'd4.example'],
  );
  const p3 = (await ok(api, q, { after: p2.pageInfo.endCursor })).domains;
  assert.deepEqual(
    p3.edges.map((e: any) => e.node.name),
    ['e5.example'],
  );
  assert.equal(p3.pageInfo.hasNextPage, false);
  const active = (await ok(api, q, { f: { status: 'ACTIVE' } })).domains;
  assert.equal(active.totalCount, 4);
  const search = (await ok(api, q, { f: { nameContains: 'D4' } })).domains;
  assert.deepEqual([search.totalCount, search.edges[0].node.name], [1, 'd4.example']);
  const big = await gql(api, '{ domains(first: 101) { totalCount } }');
  assert.equal(big.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', 'page size above the maximum is refused');
  assert.match(big.errors?.[0]?.message ?? '', /at most 100/);
  const node = await ok(api, 'query($id: ID!) { node(id: $id) { ... on Domain { name } } }', {
    id: p1.edges[1].node.id,
  });
  assert.deepEqual(node.node, { name: 'b2.example' });
});
