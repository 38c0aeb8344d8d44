// src/accounts/service.ts: users and aliases for every API: inputs validated before any write, passwords stored
// only as scrypt hashes, every change audited with its actor.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAccountService, PASSWORD_MAX, PASSWORD_MIN } from '../../src/accounts/service.ts';
import { verifyPassword } from '../../src/auth/passwords.ts';
import { NotFoundError, ValidationError } from '../../src/repos/errors.ts';
import { testDb } from '../helpers/db.ts';

function setup(t: { after(fn: () => unknown): void }) {
  const { repos, db } = testDb(t);
  repos.domains.create('example.com', { useTemplate: true });
  return { repos, db, accounts: createAccountService(repos), audit: () => repos.audit.list() };
}

const issuesOf = (e: unknown) => {
  assert.ok(e instanceof ValidationError, String(e));
  return e.issues.map((i) => [i.path.join('.'), i.message]);
};

test('createUser: the password is stored as a verifiable scrypt hash only; fields applied; audited', async (t) => {
  const { repos, db, accounts, audit } = setup(t);
  const row = await accounts.createUser('alice', 'Bob@Example.com', 'correct horse', {
    fullName: 'Bob Example',
    quota: 5000,
    status: 'suspended',
  });
  assert.equal(row.email, 'bob@example.com');
  assert.equal(row.full_name, 'Bob Example');
  assert.equal(row.quota, 5000);
  assert.equal(row.status, 'suspended');
  assert.match(row.password_hash, /^\$scrypt\$/);
  assert.equal(await verifyPassword('correct horse', row.password_hash), true);
  assert.equal(await verifyPassword('correct horsE', row.password_hash), false);
  const dump = JSON.stringify(db.$client.prepare('select * from users').all());
  assert.equal(dump.includes('correct horse'), false, 'the password is not stored in clear');
  assert.deepEqual(
    [audit()[0]!.actor, audit()[0]!.action, audit()[0]!.target_type, audit()[0]!.target],
    ['alice', 'user.create', 'user', 'bob@example.com'],
  );
  assert.equal(JSON.stringify(repos.audit.list()).includes('correct horse'), false, 'nor in the audit log');
  // Defaults: quota null means the domain default.
  const plain = await accounts.createUser('alice', 'carol@example.com', 'x'.repeat(PASSWORD_MIN));
  assert.equal(plain.quota, null);
  assert.equal(plain.status, 'active');
});

test('createUser: password length, quota, status and name are checked together, before anything is written', async (t) => {
  const { repos, accounts, audit } = setup(t);
  const cases: [string, Parameters<typeof accounts.createUser>[3], string[][]][] = [
    ['x'.repeat(PASSWORD_MIN - 1), {}, [['password', 'must be at least 10 characters']]],
    ['x'.repeat(PASSWORD_MAX + 1), {}, [['password', 'must be at most 1024 characters']]],
    ['long enough', { quota: -1 }, [['quota', 'must be a whole number of bytes, 0 or more (0 = unlimited)']]],
    ['long enough', { quota: 1.5 }, [['quota', 'must be a whole number of bytes, 0 or more (0 = unlimited)']]],
    ['long enough', { status: 'banned' as never }, [['status', 'must be one of active, disabled, suspended']]],
    ['long enough', { fullName: 'n'.repeat(257) }, [['fullName', 'must be at most 256 characters']]],
    [
      'short',
      { quota: -5, status: 'x' as never },
      [
        ['password', 'must be at least 10 characters'],
        ['quota', 'must be a whole number of bytes, 0 or more (0 = unlimited)'],
        ['status', 'must be one of active, disabled, suspended'],
      ],
    ],
  ];
  for (const [password, input, expected] of cases)
    await assert.rejects(accounts.createUser('alice', 'bob@example.com', password, input), (e) => {
      assert.deepEqual(issuesOf(e), expected, JSON.stringify(input));
      return true;
    });
  assert.equal(repos.users.get('bob@example.com'), undefined);
  assert.equal(audit().length, 0);
  // Boundaries are allowed.
  await accounts.createUser('alice', 'max@example.com', 'x'.repeat(PASSWORD_MAX), {
    quota: 0,
    fullName: 'n'.repeat(256),
  });
  // The repository's own checks still apply (unknown domain).
  await assert.rejects(accounts.createUser('alice', 'bob@nowhere.example', 'long enough'), NotFoundError);
});

test('updateUser: only the given fields change and are audited; invalid input changes nothing', async (t) => {
  const { repos, accounts, audit } = setup(t);
  await accounts.createUser('alice', 'bob@example.com', 'correct horse', { fullName: 'Bob', quota: 100 });
  const row = accounts.updateUser('carol', 'bob@example.com', { quota: 0 });
  assert.equal(row.quota, 0);
  assert.equal(row.full_name, 'Bob');
  assert.deepEqual(
    [audit()[0]!.actor, audit()[0]!.action, audit()[0]!.details],
    ['carol', 'user.update', { fields: ['quota'] }],
  );
  const cleared = accounts.updateUser('carol', 'bob@example.com', { fullName: null, status: 'disabled' });
  assert.equal(cleared.full_name, null);
  assert.equal(cleared.status, 'disabled');
  assert.deepEqual(audit()[0]!.details, { fields: ['full_name', 'status'] });
  const n = audit().length;
  assert.throws(
    () => accounts.updateUser('carol', 'bob@example.com', { quota: -1, fullName: 'Robert' }),
    ValidationError,
  );
  assert.equal(repos.users.get('bob@example.com')!.full_name, null);
  assert.equal(audit().length, n);
  assert.throws(() => accounts.updateUser('carol', 'nobody@example.com', { quota: 1 }), NotFoundError);
});

test('setPassword: the new password verifies, the old one no longer; a short one is refused and changes nothing', async (t) => {
  const { repos, accounts, audit } = setup(t);
  await accounts.createUser('alice', 'bob@example.com', 'correct horse');
  const before = repos.users.get('bob@example.com')!.password_hash;
  await assert.rejects(accounts.setPassword('bob', 'bob@example.com', 'short'), (e) => {
    assert.deepEqual(issuesOf(e), [['password', 'must be at least 10 characters']]);
    return true;
  });
  assert.equal(repos.users.get('bob@example.com')!.password_hash, before);
  const row = await accounts.setPassword('bob', 'BOB@example.com', 'battery staple');
  assert.equal(await verifyPassword('battery staple', row.password_hash), true);
  assert.equal(await verifyPassword('correct horse', row.password_hash), false);
  assert.equal(repos.users.get('bob@example.com')!.password_hash, row.password_hash);
  assert.deepEqual(
    [audit()[0]!.actor, audit()[0]!.action, audit()[0]!.target],
    ['bob', 'user.set_password', 'bob@example.com'],
  );
  await assert.rejects(accounts.setPassword('bob', 'nobody@example.com', 'long enough'), NotFoundError);
});

test('deleteUser, createAlias and deleteAlias act and are audited (aliases with their destinations)', async (t) => {
  const { repos, accounts, audit } = setup(t);
  await accounts.createUser('alice', 'bob@example.com', 'correct horse');
  const alias = accounts.createAlias('alice', 'Sales@Example.com', ['bob@example.com', 'partner@remote.example']);
  assert.equal(alias.address, 'sales@example.com');
  assert.deepEqual(repos.aliases.get('sales@example.com')?.destinations, ['bob@example.com', 'partner@remote.example']);
  assert.deepEqual(
    [audit()[0]!.action, audit()[0]!.target, audit()[0]!.details],
    ['alias.create', 'sales@example.com', { destinations: ['bob@example.com', 'partner@remote.example'] }],
  );
  accounts.deleteAlias('alice', 'sales@example.com');
  assert.equal(repos.aliases.get('sales@example.com'), undefined);
  assert.deepEqual([audit()[0]!.action, audit()[0]!.target], ['alias.delete', 'sales@example.com']);
  const gone = accounts.deleteUser('alice', 'bob@example.com');
  assert.equal(gone.email, 'bob@example.com');
  assert.equal(repos.users.get('bob@example.com'), undefined);
  assert.deepEqual(
    [audit()[0]!.actor, audit()[0]!.action, audit()[0]!.target],
    ['alice', 'user.delete', 'bob@example.com'],
  );
  assert.throws(() => accounts.deleteUser('alice', 'bob@example.com'), NotFoundError);
});
