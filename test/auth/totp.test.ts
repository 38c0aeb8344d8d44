import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { deriveKey, loadServerSecret } from '../../src/auth/serverSecret.ts';
import { decryptSecret, TOTP_PERIOD } from '../../src/auth/totp.ts';
import { ok } from '../helpers/graphql.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';
import { needTool } from '../helpers/tools.ts';

const ENROL = `mutation($e: String!) { enrolTotp(email: $e) {
  __typename ... on TotpEnrolment { secret uri qrSvgDataUrl } ... on ConflictError { message } } }`;
const CONFIRM = `mutation($e: String!, $c: String!) { confirmTotp(email: $e, code: $c) {
  __typename ... on TotpConfirmation { recoveryCodes user { email totpEnabled } }
  ... on AuthenticationError { code message } ... on ConflictError { message } } }`;
const DISABLE = `mutation($e: String!, $c: String!) { disableTotp(email: $e, code: $c) {
  __typename ... on User { email totpEnabled } ... on AuthenticationError { code } ... on ConflictError { message } } }`;
const ENABLED = `query($e: String!) { user(email: $e) { totpEnabled } }`;

const EMAIL = 'bob@example.com';
/** 2027-01-15 08:00:05 UTC: 5 s into a time step. */
const T0 = Date.UTC(2027, 0, 15, 8, 0, 5);
const STEP = TOTP_PERIOD * 1000;

async function setup(t: Parameters<typeof needTool>[0]) {
  const oathtool = needTool(t, 'oathtool', 'oathtool');
  if (!oathtool) return undefined;
  let clock = T0;
  const s = await startTestServer(t, {}, { now: () => clock });
  await ok(s.api, 'mutation { createDomain(name: "example.com") { __typename } }');
  await s.app.services.accounts.createUser('test', EMAIL, TEST_PASSWORD);
  /** The code at `ms` as Debian's oathtool (an independent RFC 6238 implementation) computes it. */
  const code = (secret: string, ms: number) =>
    execFileSync(oathtool, ['--totp', '-b', secret, '--now', `@${Math.floor(ms / 1000)}`], { encoding: 'utf8' }).trim();
  const row = () =>
    s.app.db.$client.prepare('select * from users where email = ?').get(EMAIL) as Record<string, unknown>;
  const enabled = async () => (await ok(s.api, ENABLED, { e: EMAIL })).user.totpEnabled as boolean;
  return {
    ...s,
    code,
    row,
    enabled,
    setClock: (ms: number) => {
      clock = ms;
    },
  };
}

test('enrolment: secret, otpauth URI and SVG QR code; pending until a valid code; a wrong code leaves TOTP off', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const { enrolTotp: e } = await ok(s.api, ENROL, { e: EMAIL });
  assert.equal(e.__typename, 'TotpEnrolment');
  assert.match(e.secret, /^[A-Z2-7]{32}$/);
  const uri = new URL(e.uri);
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(uri.searchParams.get('secret'), e.secret);
  assert.equal(uri.searchParams.get('issuer'), 'mail.test.example');
  assert.match(decodeURIComponent(uri.pathname), /bob@example\.com$/);
  assert.match(e.qrSvgDataUrl, /^data:image\/svg\+xml;base64,/);
  assert.match(Buffer.from(e.qrSvgDataUrl.split(',')[1], 'base64').toString('utf8'), /^<svg[\s\S]*<\/svg>\s*$/);
  assert.equal(await s.enabled(), false);

  // A wrong code (the right one for another moment) changes nothing.
  const wrong = await ok(s.api, CONFIRM, { e: EMAIL, c: s.code(e.secret, T0 - 10 * STEP) });
  assert.deepEqual([wrong.confirmTotp.__typename, wrong.confirmTotp.code], ['AuthenticationError', 'AUTHENTICATION']);
  assert.equal(await s.enabled(), false);
  assert.equal(s.row().totp_secret, null);
  assert.equal(s.app.services.totp.status(EMAIL).pending, true);
  // Nothing to verify against while TOTP is off.
  assert.equal(await s.app.services.totp.verify(EMAIL, s.code(e.secret, T0)), false);

  // The pending secret is stored encrypted too.
  const pending = s.row().totp_pending_secret as string;
  assert.ok(!pending.includes(e.secret));
  assert.equal(decryptSecret(deriveKey(loadServerSecret(s.config.dataDir), 'totp'), pending), e.secret);

  // Enrolling again replaces the pending secret: a code for the first one no longer confirms.
  const { enrolTotp: e2 } = await ok(s.api, ENROL, { e: EMAIL });
  assert.notEqual(e2.secret, e.secret);
  const stale = await ok(s.api, CONFIRM, { e: EMAIL, c: s.code(e.secret, T0) });
  assert.equal(stale.confirmTotp.__typename, 'AuthenticationError');
  const good = await ok(s.api, CONFIRM, { e: EMAIL, c: s.code(e2.secret, T0) });
  assert.equal(good.confirmTotp.__typename, 'TotpConfirmation');
  assert.equal(await s.enabled(), true);
  assert.equal((await ok(s.api, ENROL, { e: EMAIL })).enrolTotp.__typename, 'ConflictError');
  assert.equal((await ok(s.api, CONFIRM, { e: EMAIL, c: '123456' })).confirmTotp.__typename, 'ConflictError');
});

test('confirmation with an oathtool code; replay refused; one step of tolerance; recovery codes single use', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const { secret } = (await ok(s.api, ENROL, { e: EMAIL })).enrolTotp;
  const first = s.code(secret, T0);
  const { confirmTotp: c } = await ok(s.api, CONFIRM, { e: EMAIL, c: first });
  assert.equal(c.__typename, 'TotpConfirmation');
  assert.deepEqual(c.user, { email: EMAIL, totpEnabled: true });
  assert.equal(c.recoveryCodes.length, 10);
  for (const rc of c.recoveryCodes) assert.match(rc, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{2}$/);
  assert.equal(new Set(c.recoveryCodes).size, 10);
  const totp = s.app.services.totp;

  // The code that confirmed cannot be used again (its step is the last accepted one).
  assert.equal(await totp.verify(EMAIL, first), false);
  // Two steps later: a code one step old is accepted (once), one two steps old is not.
  s.setClock(T0 + 2 * STEP);
  assert.equal(await totp.verify(EMAIL, s.code(secret, T0 + STEP)), true);
  assert.equal(await totp.verify(EMAIL, s.code(secret, T0 + STEP)), false, 'replay');
  s.setClock(T0 + 4 * STEP);
  assert.equal(await totp.verify(EMAIL, s.code(secret, T0 + 2 * STEP)), false, 'two steps old');
  assert.equal(await totp.verify(EMAIL, s.code(secret, T0 + 4 * STEP)), true, 'current');
  assert.equal(await totp.verify(EMAIL, s.code(secret, T0 + 3 * STEP)), false, 'older than the last accepted');
  assert.equal(await totp.verify(EMAIL, s.code(secret, T0 + 5 * STEP)), true, 'one step ahead');
  assert.equal(await totp.verify(EMAIL, s.code(secret, T0 + 7 * STEP)), false, 'two steps ahead');
  // Over GraphQL too: a spent code does not disable TOTP.
  const replayed = await ok(s.api, DISABLE, { e: EMAIL, c: s.code(secret, T0 + 5 * STEP) });
  assert.deepEqual(replayed.disableTotp, { __typename: 'AuthenticationError', code: 'AUTHENTICATION' });

  // Recovery codes: each works once (case and dashes do not matter); they are stored only hashed.
  const stored = JSON.stringify(s.app.db.$client.prepare('select * from recovery_codes').all());
  for (const rc of c.recoveryCodes) assert.ok(!stored.includes(rc) && !stored.includes(rc.replaceAll('-', '')));
  assert.equal(await totp.verify(EMAIL, c.recoveryCodes[0].toUpperCase()), true);
  assert.equal(await totp.verify(EMAIL, c.recoveryCodes[0]), false, 'spent');
  assert.equal(await totp.verify(EMAIL, 'aaaa-bbbb-cc'), false);
  assert.equal(totp.status(EMAIL).recoveryCodesLeft, 9);
  const spent = await ok(s.api, DISABLE, { e: EMAIL, c: c.recoveryCodes[0] });
  assert.equal(spent.disableTotp.__typename, 'AuthenticationError');
  assert.equal(await s.enabled(), true);

  // Disabling with an unspent recovery code turns TOTP off and removes secret, last step and codes.
  const off = await ok(s.api, DISABLE, { e: EMAIL, c: c.recoveryCodes[1].replaceAll('-', '') });
  assert.deepEqual(off.disableTotp, { __typename: 'User', email: EMAIL, totpEnabled: false });
  const r = s.row();
  assert.deepEqual([r.totp_secret, r.totp_pending_secret, r.totp_last_step, r.totp_enabled], [null, null, null, 0]);
  assert.equal((s.app.db.$client.prepare('select count(*) n from recovery_codes').get() as { n: number }).n, 0);
  assert.equal((await ok(s.api, DISABLE, { e: EMAIL, c: '123456' })).disableTotp.__typename, 'ConflictError');
});

test('the secret is stored encrypted: not in plain text, and the row decrypts only with the server secret', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const { secret } = (await ok(s.api, ENROL, { e: EMAIL })).enrolTotp;
  await ok(s.api, CONFIRM, { e: EMAIL, c: s.code(secret, T0) });
  const row = s.row();
  const raw = Buffer.from(secret).toString('base64');
  for (const [k, v] of Object.entries(row)) {
    if (typeof v !== 'string') continue;
    assert.ok(!v.includes(secret) && !v.toLowerCase().includes(secret.toLowerCase()) && !v.includes(raw), k);
  }
  const stored = row.totp_secret as string;
  assert.equal(row.totp_last_step, Math.floor(T0 / STEP));
  // base64 of iv (12) | tag (16) | ciphertext (the 32 base32 characters).
  assert.equal(Buffer.from(stored, 'base64').length, 12 + 16 + 32);
  const serverSecret = loadServerSecret(s.config.dataDir);
  assert.equal(decryptSecret(deriveKey(serverSecret, 'totp'), stored), secret);
  assert.throws(() => decryptSecret(deriveKey(randomBytes(32), 'totp'), stored));
  assert.throws(() => decryptSecret(deriveKey(serverSecret, 'srs'), stored), 'a key for another purpose fails');
  // Admins can still turn it off without a code.
  const u = await s.app.services.totp.disable('test', EMAIL, { admin: true });
  assert.equal(u.totp_enabled, false);
});
