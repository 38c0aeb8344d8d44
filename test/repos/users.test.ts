import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/repos/errors.ts';
import { testDb } from '../helpers/db.ts';

test('a new user gets the six standard mailboxes with SPECIAL-USE, in one transaction', (t) => {
  const { repos } = testDb(t);
  repos.domains.create('example.com', { useTemplate: true });
  const u = repos.users.create({ email: 'Alice@Example.com', passwordHash: 'h', quota: 1000 });
  assert.equal(u.email, 'alice@example.com');
  assert.equal(u.local_part, 'alice');
  const boxes = repos.users.mailboxes(u.id);
  assert.deepEqual(
    boxes.map((b) => [b.name, b.special_use]),
    [
      ['INBOX', null],
      ['Sent', '\\Sent'],
      ['Drafts', '\\Drafts'],
      ['Trash', '\\Trash'],
      ['Junk', '\\Junk'],
      ['Archive', '\\Archive'],
    ],
  );
  assert.ok(boxes.every((b) => b.uidnext === 1 && b.uidvalidity > 0 && b.subscribed));
  assert.throws(() => repos.users.create({ email: 'alice@example.com', passwordHash: 'h' }), ConflictError);
});

test('users need an existing domain, respect max_users and cannot be created in the template', (t) => {
  const { repos } = testDb(t);
  assert.throws(() => repos.users.create({ email: 'a@nowhere.example', passwordHash: 'h' }), NotFoundError);
  assert.throws(() => repos.users.create({ email: 'a@_default', passwordHash: 'h' }), InvalidInputError);
  assert.throws(() => repos.users.create({ email: 'not-an-address', passwordHash: 'h' }), InvalidInputError);
  repos.domains.create('small.example', { useTemplate: true, values: { max_users: 1 } });
  repos.users.create({ email: 'one@small.example', passwordHash: 'h' });
  assert.throws(() => repos.users.create({ email: 'two@small.example', passwordHash: 'h' }), /maximum of 1 users/);
  assert.equal(repos.users.count({ domainId: repos.domains.get('small.example')!.id }), 1);
});

test('aliases: created for hosted domains only, never shadowing a user', (t) => {
  const { repos } = testDb(t);
  repos.domains.create('example.com', { useTemplate: true });
  repos.users.create({ email: 'bob@example.com', passwordHash: 'h' });
  const a = repos.aliases.create('Sales@example.com', ['bob@example.com', 'partner@remote.example']);
  assert.deepEqual(a.destinations, ['bob@example.com', 'partner@remote.example']);
  assert.throws(() => repos.aliases.create('bob@example.com', ['x@example.com']), ConflictError);
  assert.throws(() => repos.aliases.create('x@other.example', ['bob@example.com']), NotFoundError);
  assert.throws(() => repos.aliases.create('y@example.com', []), InvalidInputError);
  assert.equal(repos.aliases.delete('sales@example.com').address, 'sales@example.com');
});

test('scrypt passwords verify, reject a wrong password and never verify an unknown format', async () => {
  const h = await hashPassword('correct horse');
  assert.match(h, /^\$scrypt\$ln=15,r=8,p=1\$/);
  assert.equal(await verifyPassword('correct horse', h), true);
  assert.equal(await verifyPassword('correct horsE', h), false);
  assert.equal(await verifyPassword('x', 'plain'), false);
  assert.notEqual(await hashPassword('correct horse'), h, 'salted');
});

test('API tokens are stored hashed and stop verifying when revoked or expired', (t) => {
  const { repos, db } = testDb(t);
  const { token, row } = repos.apiTokens.create('ci');
  assert.equal(repos.apiTokens.verify(token)?.id, row.id);
  assert.equal(JSON.stringify(db.$client.prepare('select * from api_tokens').all()).includes(token), false);
  assert.equal(repos.apiTokens.verify(`${token}x`), undefined);
  repos.apiTokens.revoke(row.id);
  assert.equal(repos.apiTokens.verify(token), undefined);
  const old = repos.apiTokens.create('old', ['admin'], Date.now() - 1);
  assert.equal(repos.apiTokens.verify(old.token), undefined);
});
