// The brute-force guard (src/auth/bruteForce.ts) with real clients over real sockets: the threshold-th wrong
// password blocks the client's IP on IMAP and on SMTP AUTH; a blocked client gets exactly the wrong-password
// answer, even with the right password, and the log says `blocked`; the block is a blocked_ips row (visible in
// GraphQL and REST, liftable, still there after a restart); an allow-listed IP is never blocked; failures from
// many IPs (127.0.0.2-4, Python imaplib with a source address) block the account.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { createBruteForceGuard } from '../../src/auth/bruteForce.ts';
import { createMemoryCounters } from '../../src/policy/counters.ts';
import { testDb } from '../helpers/db.ts';
import { ok } from '../helpers/graphql.ts';
import { capturedLog } from '../helpers/logLines.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';
import { PASSWORD, python } from '../imap/clients.ts';
import { rawImapLogin, rest, smtpLogin } from './loginHelpers.ts';

const WRONG_IMAP = 'NO [AUTHENTICATIONFAILED] Authentication failed';
const WRONG_SMTP = '535 5.7.8 Authentication credentials invalid';
const BLOCKS = '{ blockedIps { ip account key kind reason blockedUntil } }';

async function server(t: Parameters<typeof startTestServer>[0], dir?: string) {
  const { log, lines } = capturedLog();
  const s = await startTestServer(t, {}, { log, dir });
  if (!dir) {
    await s.app.services.domains.create('test', 'example.com', true);
    for (const u of ['bob@example.com', 'carol@example.com'])
      await s.app.services.accounts.createUser('test', u, PASSWORD);
    const r = await rest(s.api, 'PUT', '/api/domains/example.com/security', {
      auth: { brute_force_threshold: 3, brute_force_window_minutes: 15, brute_force_block_minutes: 60 },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  const failures = () => lines.filter((l) => l.msg === 'authentication failed');
  return { ...s, lines, failures };
}

test('IMAP: the third wrong password blocks the IP; then the right password gets the wrong-password answer on IMAP and SMTP; GraphQL shows the block; it survives a restart; unblockIp lifts it', async (t) => {
  const s = await server(t);
  for (let i = 0; i < 3; i++)
    assert.equal(await rawImapLogin(s.ports.imap, 'bob@example.com', `wrong-${i}`), WRONG_IMAP);
  const blocks = (await ok(s.api, BLOCKS)).blockedIps;
  assert.equal(blocks.length, 1);
  assert.equal(blocks[0].ip, '127.0.0.1');
  assert.equal(blocks[0].kind, 'AUTO');
  assert.equal(blocks[0].account, null);
  assert.ok(Date.parse(blocks[0].blockedUntil) > Date.now() + 59 * 60_000);

  const started = Date.now();
  assert.equal(await rawImapLogin(s.ports.imap, 'bob@example.com', PASSWORD), WRONG_IMAP);
  assert.ok(Date.now() - started >= 300, 'a blocked client waits like a wrong password');
  assert.equal(await smtpLogin(s.ports.submission, 'bob@example.com', PASSWORD), WRONG_SMTP);
  // Another user from the same IP is refused too.
  assert.equal(await rawImapLogin(s.ports.imap, 'carol@example.com', PASSWORD), WRONG_IMAP);
  const reasons = s.failures().map((l) => l.reason);
  assert.deepEqual(reasons.slice(0, 3), ['invalid credentials', 'invalid credentials', 'invalid credentials']);
  assert.deepEqual(reasons.slice(3), ['blocked', 'blocked', 'blocked']);
  assert.ok(s.app.repos.audit.list().some((a) => a.action === 'auth.block' && a.target === '127.0.0.1'));

  // A restart reads the block back from blocked_ips.
  await s.app.stop();
  const again = await server(t, s.dir);
  assert.equal(await rawImapLogin(again.ports.imap, 'bob@example.com', PASSWORD), WRONG_IMAP);
  assert.equal(again.failures().at(-1)?.reason, 'blocked');
  const lifted = await ok(
    again.api,
    'mutation { unblockIp(ip: "127.0.0.1") { __typename ... on BlockedIp { ip kind } } }',
  );
  assert.equal(lifted.unblockIp.ip, '127.0.0.1');
  assert.deepEqual((await ok(again.api, BLOCKS)).blockedIps, []);
  assert.match(await rawImapLogin(again.ports.imap, 'bob@example.com', PASSWORD), /^OK /);
  assert.equal(await smtpLogin(again.ports.submission, 'bob@example.com', PASSWORD), 'OK');
  // Lifting a block forgets its counts: one more failure does not block again.
  assert.equal(await rawImapLogin(again.ports.imap, 'bob@example.com', 'wrong'), WRONG_IMAP);
  assert.match(await rawImapLogin(again.ports.imap, 'bob@example.com', PASSWORD), /^OK /);
});

test('SMTP AUTH: the third wrong password blocks the IP (535 5.7.8 for the right one too, IMAP refused); REST lists and lifts it', async (t) => {
  const s = await server(t);
  for (let i = 0; i < 3; i++)
    assert.equal(await smtpLogin(s.ports.submission, 'bob@example.com', `wrong-${i}`), WRONG_SMTP);
  const started = Date.now();
  assert.equal(await smtpLogin(s.ports.submission, 'bob@example.com', PASSWORD), WRONG_SMTP);
  assert.ok(Date.now() - started >= 300, 'SMTP delays failures like IMAP');
  assert.equal(await rawImapLogin(s.ports.imap, 'bob@example.com', PASSWORD), WRONG_IMAP);
  assert.equal(s.failures().at(-2)?.reason, 'blocked');
  const listed = await rest(s.api, 'GET', '/api/blocked-ips');
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.body.map((b: { ip: string; kind: string }) => [b.ip, b.kind]),
    [['127.0.0.1', 'auto']],
  );
  const del = await rest(s.api, 'DELETE', '/api/blocked-ips/127.0.0.1');
  assert.equal(del.status, 200, JSON.stringify(del.body));
  assert.equal(await smtpLogin(s.ports.submission, 'bob@example.com', PASSWORD), 'OK');
  assert.equal((await rest(s.api, 'DELETE', '/api/blocked-ips/127.0.0.1')).status, 404);
});

test('an allow-listed IP is never blocked; a manual block refuses at once and can be permanent', async (t) => {
  const s = await server(t);
  const allowed = await rest(s.api, 'POST', '/api/blocked-ips', { ip: '127.0.0.1', kind: 'allow', reason: 'office' });
  assert.equal(allowed.status, 201, JSON.stringify(allowed.body));
  for (let i = 0; i < 5; i++)
    assert.equal(await rawImapLogin(s.ports.imap, 'bob@example.com', `wrong-${i}`), WRONG_IMAP);
  assert.match(await rawImapLogin(s.ports.imap, 'bob@example.com', PASSWORD), /^OK /);
  assert.deepEqual(
    (await ok(s.api, BLOCKS)).blockedIps.map((b: { kind: string }) => b.kind),
    ['ALLOW'],
  );

  const blocked = await ok(
    s.api,
    'mutation { blockIp(ip: "::ffff:127.0.0.1", reason: "abuse") { __typename ... on BlockedIp { ip kind blockedUntil } } }',
  );
  assert.deepEqual(blocked.blockIp, { __typename: 'BlockedIp', ip: '127.0.0.1', kind: 'MANUAL', blockedUntil: null });
  assert.equal(await rawImapLogin(s.ports.imap, 'bob@example.com', PASSWORD), WRONG_IMAP);
  // The blacklist applies only while auth_ip_blacklist_enabled is on.
  await rest(s.api, 'PUT', '/api/domains/example.com/security', { auth: { ip_blacklist_enabled: false } });
  assert.match(await rawImapLogin(s.ports.imap, 'bob@example.com', PASSWORD), /^OK /);
  const bad = await ok(s.api, 'mutation { blockIp(ip: "not-an-ip", minutes: 5) { __typename } }');
  assert.equal(bad.blockIp.__typename, 'ValidationError');
});

const FROM = `
import imaplib, socket, sys
class Src(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(sys.argv[2], 0))
m = Src('127.0.0.1', int(sys.argv[1]))
try:
    print(m.login(sys.argv[3], sys.argv[4])[0])
except imaplib.IMAP4.error as e:
    print('NO ' + str(e))
`;

test('failures from many IPs block the account (not the IPs): the right password is refused from a fresh IP until unblockIp("account:...")', async (t) => {
  const s = await server(t);
  const from = async (ip: string, pass: string) =>
    (await python(FROM, [s.ports.imap, ip, 'bob@example.com', pass])).stdout.trim();
  for (const ip of ['127.0.0.2', '127.0.0.3', '127.0.0.4'])
    assert.match(await from(ip, 'wrong'), /Authentication failed/);
  const blocks = (await ok(s.api, BLOCKS)).blockedIps;
  assert.deepEqual(
    blocks.map((b: { account: string; ip: string; key: string }) => [b.account, b.ip, b.key]),
    [['bob@example.com', null, 'account:bob@example.com']],
  );
  assert.match(await from('127.0.0.5', PASSWORD), /Authentication failed/);
  // Other accounts are not affected.
  assert.match(await rawImapLogin(s.ports.imap, 'carol@example.com', PASSWORD), /^OK /);
  await ok(s.api, 'mutation { unblockIp(ip: "account:bob@example.com") { __typename } }');
  assert.equal(await from('127.0.0.5', PASSWORD), 'OK');
});

test('every auth_cleanup_interval (of _default): expired blocks and expired or revoked API sessions are deleted; live ones stay', async (t) => {
  const { repos, bus } = testDb(t);
  repos.domains.update('_default', { auth_cleanup_interval: 1 });
  repos.domains.create('example.com', { useTemplate: true });
  const bob = repos.users.create({ email: 'bob@example.com', passwordHash: 'x' });
  const now = Date.now();
  repos.blockedIps.set({ ip: '192.0.2.1', kind: 'auto', reason: 'test', until: now + 1500 }, now);
  repos.blockedIps.set({ ip: '192.0.2.2', kind: 'auto', reason: 'test', until: now + 3_600_000 }, now);
  const expiring = repos.sessions.create(bob.id, now + 1500);
  const revoked = repos.sessions.create(bob.id, now + 3_600_000);
  repos.sessions.revoke(revoked.row.id);
  const live = repos.sessions.create(bob.id, now + 3_600_000);
  const guard = createBruteForceGuard({
    repos,
    counters: createMemoryCounters(),
    bus,
    log: pino({ level: 'silent' }),
  });
  const stop = guard.startCleanup([{ name: 'API sessions', run: () => repos.sessions.cleanup() }]);
  t.after(stop);
  const sessionIds = () => [expiring, revoked, live].filter((s) => repos.sessions.get(s.row.id)).map((s) => s.row.id);
  // The revoked session goes at the first run (at start); the expiring block and session within a second or two
  // after they expire.
  assert.deepEqual(sessionIds(), [expiring.row.id, live.row.id]);
  await waitUntil(
    () => sessionIds().length === 1 && !repos.blockedIps.get('192.0.2.1', Date.now() - 10_000),
    'the clean-up',
    {
      timeoutMs: 6000,
    },
  );
  assert.deepEqual(sessionIds(), [live.row.id]);
  assert.ok(repos.blockedIps.get('192.0.2.2'), 'the live block stays');
});
