// App passwords and the login seam (src/auth/login.ts) with real clients: imapflow and Python imaplib on IMAP,
// nodemailer on 587; app passwords made through GraphQL and REST; TOTP (domain-enforced or per user) leaves only
// app passwords; revocation; per-protocol scopes; rehash of a weak account password hash on login.
import assert from 'node:assert/strict';
import { randomBytes, scryptSync } from 'node:crypto';
import { test } from 'node:test';
import { APP_PASSWORD_REQUIRED } from '../../src/auth/login.ts';
import { ok } from '../helpers/graphql.ts';
import { PASSWORD } from '../imap/clients.ts';
import { imapServer } from '../imap/setup.ts';
import { imapflowLogin, imaplibLogin, rest, smtpLogin } from './loginHelpers.ts';

const CREATE = `mutation($email: String!, $name: String!, $scopes: [AppPasswordScope!]!) {
  createAppPassword(email: $email, name: $name, scopes: $scopes) {
    __typename
    ... on CreatedAppPassword { id name scopes password }
    ... on Error { message }
  }
}`;

async function server(t: Parameters<typeof imapServer>[0]) {
  const s = await imapServer(t);
  // These tests fail on purpose more often than the default brute-force threshold allows from one address.
  const r = await rest(s.api, 'PUT', '/api/domains/example.com/security', { auth: { brute_force_threshold: 100 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return s;
}

test('auth_totp_enforced: the account password is refused with a message naming app passwords (imapflow, imaplib); an IMAP app password logs in; it records its use', async (t) => {
  const s = await server(t);
  const made = await ok(s.api, CREATE, { email: 'bob@example.com', name: 'Thunderbird', scopes: ['IMAP'] });
  const created = made.createAppPassword;
  assert.match(created.password, /^[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}$/);
  assert.deepEqual(created.scopes, ['IMAP']);

  // Before enforcement both passwords work.
  assert.equal(await imapflowLogin(s.ports.imap, 'bob@example.com', PASSWORD), 'OK');
  assert.equal(await imapflowLogin(s.ports.imap, 'bob@example.com', created.password), 'OK');

  const r = await rest(s.api, 'PUT', '/api/domains/example.com/security', { auth: { totp_enforced: true } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(await imapflowLogin(s.ports.imap, 'bob@example.com', PASSWORD), `NO ${APP_PASSWORD_REQUIRED}`);
  assert.match(await imaplibLogin(s.ports.imap, 'bob@example.com', PASSWORD), /AUTHENTICATIONFAILED.*app password/);
  assert.equal(await imapflowLogin(s.ports.imap, 'bob@example.com', created.password), 'OK');
  // Without the spaces, as some clients store it.
  assert.equal(await imaplibLogin(s.ports.imap, 'bob@example.com', created.password.replaceAll(' ', '')), 'OK');
  // A wrong password is still the generic answer.
  assert.equal(await imapflowLogin(s.ports.imap, 'bob@example.com', 'wrong-password'), 'NO Authentication failed');
  // SMTP AUTH with the account password: 535 5.7.8 with the same text.
  assert.equal(await smtpLogin(s.ports.submission, 'bob@example.com', PASSWORD), `535 5.7.8 ${APP_PASSWORD_REQUIRED}`);

  const listed = await ok(
    s.api,
    '{ user(email: "bob@example.com") { appPasswords { id name scopes lastUsedAt lastUsedIp } } }',
  );
  const [row] = listed.user.appPasswords;
  assert.equal(row.name, 'Thunderbird');
  assert.equal(row.lastUsedIp, '127.0.0.1');
  assert.ok(row.lastUsedAt);
  const viaRest = await rest(s.api, 'GET', '/api/users/bob@example.com/app-passwords');
  assert.equal(viaRest.status, 200);
  assert.deepEqual(Object.keys(viaRest.body[0]).sort(), [
    'created_at',
    'id',
    'last_used_at',
    'last_used_ip',
    'name',
    'scopes',
  ]);
});

test('users.totp_enabled: the account password is refused, an app password logs in (imaplib, imapflow); other users are unaffected', async (t) => {
  const s = await server(t);
  s.app.repos.users.update('carol@example.com', { totp_enabled: true });
  const made = await rest(s.api, 'POST', '/api/users/carol@example.com/app-passwords', {
    name: 'phone',
    scopes: ['imap', 'smtp'],
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const password = made.body.password as string;
  assert.match(await imaplibLogin(s.ports.imap, 'carol@example.com', PASSWORD), /app password/);
  assert.equal(await imapflowLogin(s.ports.imap, 'carol@example.com', PASSWORD), `NO ${APP_PASSWORD_REQUIRED}`);
  assert.equal(await imaplibLogin(s.ports.imap, 'carol@example.com', password), 'OK');
  assert.equal(await imapflowLogin(s.ports.imap, 'carol@example.com', password), 'OK');
  assert.equal(await smtpLogin(s.ports.submission, 'carol@example.com', password), 'OK');
  assert.equal(await imaplibLogin(s.ports.imap, 'bob@example.com', PASSWORD), 'OK');
});

test('a revoked app password fails at the next LOGIN; an imap-only one fails SMTP AUTH, an smtp-scoped one works', async (t) => {
  const s = await server(t);
  const imapOnly = (await ok(s.api, CREATE, { email: 'bob@example.com', name: 'mail app', scopes: ['IMAP'] }))
    .createAppPassword;
  const smtpOnly = (
    await rest(s.api, 'POST', '/api/users/bob@example.com/app-passwords', { name: 'printer', scopes: ['smtp'] })
  ).body;
  assert.equal(await imaplibLogin(s.ports.imap, 'bob@example.com', imapOnly.password), 'OK');
  assert.equal(
    await smtpLogin(s.ports.submission, 'bob@example.com', imapOnly.password),
    '535 5.7.8 Authentication credentials invalid',
  );
  assert.equal(await smtpLogin(s.ports.submission, 'bob@example.com', smtpOnly.password), 'OK');
  assert.match(await imaplibLogin(s.ports.imap, 'bob@example.com', smtpOnly.password), /^NO .*AUTHENTICATIONFAILED/);

  const revoked = await ok(
    s.api,
    'mutation($id: Int!) { revokeAppPassword(email: "bob@example.com", id: $id) { __typename ... on AppPassword { id name } } }',
    { id: imapOnly.id },
  );
  assert.equal(revoked.revokeAppPassword.name, 'mail app');
  assert.match(
    await imaplibLogin(s.ports.imap, 'bob@example.com', imapOnly.password),
    /AUTHENTICATIONFAILED.*Authentication failed/,
  );
  const del = await rest(s.api, 'DELETE', `/api/users/bob@example.com/app-passwords/${smtpOnly.id}`);
  assert.equal(del.status, 200);
  assert.match(await smtpLogin(s.ports.submission, 'bob@example.com', smtpOnly.password), /^535 5\.7\.8/);
  assert.equal((await rest(s.api, 'DELETE', `/api/users/bob@example.com/app-passwords/${smtpOnly.id}`)).status, 404);
  const bad = await rest(s.api, 'POST', '/api/users/bob@example.com/app-passwords', { name: 'x', scopes: ['pop3'] });
  assert.equal(bad.status, 400);
  const audit = s.app.repos.audit.list().map((a) => a.action);
  assert.ok(audit.includes('app_password.create') && audit.includes('app_password.revoke'), audit.join());
});

test('an account password hashed with weaker scrypt parameters is rehashed on a successful login', async (t) => {
  const s = await server(t);
  const salt = randomBytes(16);
  const key = scryptSync(PASSWORD, salt, 32, { N: 2 ** 12, r: 8, p: 1 });
  s.app.repos.users.setPasswordHash(
    'bob@example.com',
    `$scrypt$ln=12,r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`,
  );
  assert.equal(await imapflowLogin(s.ports.imap, 'bob@example.com', 'wrong-password'), 'NO Authentication failed');
  assert.match(s.app.repos.users.get('bob@example.com')!.password_hash, /^\$scrypt\$ln=12,/);
  assert.equal(await imapflowLogin(s.ports.imap, 'bob@example.com', PASSWORD), 'OK');
  assert.match(s.app.repos.users.get('bob@example.com')!.password_hash, /^\$scrypt\$ln=15,r=8,p=1\$/);
  assert.equal(await imaplibLogin(s.ports.imap, 'bob@example.com', PASSWORD), 'OK');
});
