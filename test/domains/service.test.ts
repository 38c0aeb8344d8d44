// src/domains/service.ts: domain operations shared by every API: validation before any write, DKIM keys
// generated for the stored type and size (and regenerated when either changes), every change audited.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import { createDomainService } from '../../src/domains/service.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../src/repos/errors.ts';
import { testDb } from '../helpers/db.ts';

const FAST = { dkim_key_size: 1024 }; // RSA 1024 keeps key generation quick where the size does not matter

function setup(t: { after(fn: () => unknown): void }) {
  const { repos } = testDb(t);
  return { repos, domains: createDomainService(repos), audit: () => repos.audit.list() };
}

/** The stored key pair belongs together and has the stored type and size. */
function assertKeyPair(
  row: { dkim_private_key: string | null; dkim_public_key: string | null },
  type: string,
  size?: number,
) {
  assert.ok(row.dkim_private_key && row.dkim_public_key, 'a key pair is stored');
  const pub = createPublicKey(row.dkim_public_key);
  assert.equal(pub.asymmetricKeyType, type);
  if (size) assert.equal(pub.asymmetricKeyDetails?.modulusLength, size);
  assert.equal(
    createPublicKey(createPrivateKey(row.dkim_private_key)).export({ type: 'spki', format: 'pem' }),
    row.dkim_public_key,
  );
}

const issuesOf = (e: unknown) => {
  assert.ok(e instanceof ValidationError, String(e));
  return e.issues.map((i) => [i.path.join('.'), i.message]);
};

test('create: name normalised, DKIM pair of the configured type and size generated, audited with the actor', async (t) => {
  const { repos, domains, audit } = setup(t);
  const row = await domains.create('alice', 'Example.COM.', true, FAST);
  assert.equal(row.name, 'example.com');
  assert.equal(row.dkim_key_type, 'rsa');
  assert.equal(row.dkim_key_size, 1024);
  assertKeyPair(row, 'rsa', 1024);
  assert.equal(repos.domains.get('example.com')?.id, row.id);
  const ed = await domains.create('alice', 'ed.example', false, { dkim_key_type: 'ed25519' });
  assertKeyPair(ed, 'ed25519');
  const [last, first] = audit();
  assert.deepEqual(
    [first!.actor, first!.action, first!.target_type, first!.target, first!.details],
    ['alice', 'domain.create', 'domain', 'example.com', { useTemplate: true, fields: ['dkim_key_size'] }],
  );
  assert.deepEqual(
    [last!.action, last!.target, last!.details],
    ['domain.create', 'ed.example', { useTemplate: false, fields: ['dkim_key_type'] }],
  );
});

test('create: invalid names, the reserved template name, duplicates and invalid settings change nothing', async (t) => {
  const { repos, domains, audit } = setup(t);
  await domains.create('alice', 'example.com', true, FAST);
  const auditBefore = audit().length;
  await assert.rejects(domains.create('alice', 'not a domain', true), (e) => {
    assert.deepEqual(issuesOf(e), [['name', '"not a domain" is not a valid domain name']]);
    return true;
  });
  await assert.rejects(domains.create('alice', '_default', true), (e) => {
    assert.deepEqual(issuesOf(e), [['name', '_default is reserved for the template']]);
    return true;
  });
  await assert.rejects(domains.create('alice', 'EXAMPLE.com', true, FAST), ConflictError);
  await assert.rejects(
    domains.create('alice', 'new.example', true, { dkim_key_size: 3000, spam_reject_score: 1, nope: true } as Record<
      string,
      unknown
    >),
    (e) => {
      assert.deepEqual(issuesOf(e), [
        ['dkim_key_size', 'must be 1024, 2048 or 4096'],
        ['nope', 'is not a domain setting'],
      ]);
      return true;
    },
  );
  // A rate-limit problem is reported with its sub-path.
  await assert.rejects(domains.create('alice', 'new.example', true, { ratelimit_smtp_per_ip: { count: 0 } }), (e) => {
    assert.deepEqual(issuesOf(e), [['ratelimit_smtp_per_ip.count', 'must be at least 1']]);
    return true;
  });
  assert.equal(repos.domains.get('new.example'), undefined);
  assert.equal(audit().length, auditBefore, 'nothing audited');
});

test('update: a change of key type or size regenerates the key, other changes keep it; the audit says which', async (t) => {
  const { domains, audit } = setup(t);
  const created = await domains.create('alice', 'example.com', true, FAST);
  const same = await domains.update('bob', 'example.com', { spam_reject_score: 12, dkim_selector: 'mail2026' });
  assert.equal(same.dkim_public_key, created.dkim_public_key, 'the selector and spam settings keep the key');
  assert.equal(same.dkim_selector, 'mail2026');
  assert.equal(same.spam_reject_score, 12);
  assert.deepEqual(
    [audit()[0]!.actor, audit()[0]!.action, audit()[0]!.details],
    ['bob', 'domain.update', { fields: ['spam_reject_score', 'dkim_selector'], dkimKeyRegenerated: false }],
  );
  const bigger = await domains.update('bob', 'example.com', { dkim_key_size: 2048 });
  assert.notEqual(bigger.dkim_public_key, created.dkim_public_key, 'a size change regenerates the key');
  assertKeyPair(bigger, 'rsa', 2048);
  assert.deepEqual(audit()[0]!.details, { fields: ['dkim_key_size'], dkimKeyRegenerated: true });
  const ed = await domains.update('bob', 'example.com', { dkim_key_type: 'ed25519' });
  assert.notEqual(ed.dkim_public_key, bigger.dkim_public_key);
  assertKeyPair(ed, 'ed25519');
  assert.deepEqual(audit()[0]!.details, { fields: ['dkim_key_type'], dkimKeyRegenerated: true });
  const rsa = await domains.update('bob', 'example.com', { dkim_key_type: 'rsa', dkim_key_size: 2048 });
  assertKeyPair(rsa, 'rsa', 2048);
  // Invalid: nothing changes (cross-field rule against the stored row).
  await assert.rejects(domains.update('bob', 'example.com', { spam_quarantine_score: 13 }), ValidationError);
  await assert.rejects(domains.update('bob', 'nowhere.example', { spam_reject_score: 1 }), NotFoundError);
});

test('update of the _default template: audited as template.update, no key generated for it', async (t) => {
  const { repos, domains, audit } = setup(t);
  const row = await domains.update('alice', '_default', { dkim_key_size: 1024, spam_reject_score: 9 });
  assert.equal(row.dkim_key_size, 1024);
  assert.equal(row.dkim_private_key, repos.domains.template().dkim_private_key);
  assert.equal(row.dkim_private_key ?? null, null, 'the template holds settings, not a key');
  assert.deepEqual(
    [audit()[0]!.action, audit()[0]!.target, audit()[0]!.details],
    ['template.update', '_default', { fields: ['dkim_key_size', 'spam_reject_score'], dkimKeyRegenerated: false }],
  );
  // A domain created from the template gets its settings.
  const d = await domains.create('alice', 'from-template.example', true);
  assert.equal(d.dkim_key_size, 1024);
  assert.equal(d.spam_reject_score, 9);
});

test('rotateDkimKey: always a new key, optionally of another type, size or selector; not for the template', async (t) => {
  const { domains, audit } = setup(t);
  const created = await domains.create('alice', 'example.com', true, FAST);
  const r1 = await domains.rotateDkimKey('carol', 'example.com');
  assert.notEqual(r1.dkim_public_key, created.dkim_public_key);
  assertKeyPair(r1, 'rsa', 1024);
  const r2 = await domains.rotateDkimKey('carol', 'example.com', { keyType: 'ed25519', selector: 's2027' });
  assertKeyPair(r2, 'ed25519');
  assert.equal(r2.dkim_selector, 's2027');
  assert.deepEqual(
    [audit()[0]!.actor, audit()[0]!.action, audit()[0]!.details],
    ['carol', 'domain.rotate_dkim', { keyType: 'ed25519', keySize: 1024, selector: 's2027' }],
  );
  await assert.rejects(domains.rotateDkimKey('carol', 'example.com', { keySize: 3000 }), (e) => {
    assert.deepEqual(issuesOf(e), [['dkim_key_size', 'must be 1024, 2048 or 4096']]);
    return true;
  });
  await assert.rejects(domains.rotateDkimKey('carol', '_default'), (e) => {
    assert.deepEqual(issuesOf(e), [['name', 'the _default template has no DKIM key']]);
    return true;
  });
});

test('delete: refused while users exist unless forced; audited with force', async (t) => {
  const { repos, domains, audit } = setup(t);
  await domains.create('alice', 'example.com', true, FAST);
  repos.users.create({ email: 'bob@example.com', passwordHash: 'h' });
  assert.throws(() => domains.delete('alice', 'example.com'), ConflictError);
  assert.ok(repos.domains.get('example.com'));
  const gone = domains.delete('alice', 'example.com', true);
  assert.equal(gone.name, 'example.com');
  assert.equal(repos.domains.get('example.com'), undefined);
  assert.equal(repos.users.get('bob@example.com'), undefined);
  assert.deepEqual(
    [audit()[0]!.action, audit()[0]!.target, audit()[0]!.details],
    ['domain.delete', 'example.com', { force: true }],
  );
});
