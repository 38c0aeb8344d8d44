/**
 * STARTTLS and TLS (src/imap/commands/starttls.ts): plaintext_auth never (LOGINDISABLED, PRIVACYREQUIRED),
 * the upgrade over the raw wire (no plaintext injection), implicit TLS on imaps_port; imapflow, Python's imaplib
 * and curl over STARTTLS and implicit TLS.
 * (Moved from test/imap/auth.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needTool } from '../../helpers/tools.ts';
import { flow, PASSWORD, python, run } from '../clients.ts';
import { imapServer } from '../setup.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const capsOf = (line: string) => new Set(/CAPABILITY ([^\]\r\n]*)/.exec(line)?.[1]?.split(' ') ?? []);

test('plaintext_auth never: LOGINDISABLED, LOGIN/AUTHENTICATE refused with PRIVACYREQUIRED, fine after STARTTLS; pipelined command after STARTTLS is discarded', async (t) => {
  const s = await imapServer(t, { imap: { plaintext_auth: 'never' } });
  const c = await s.raw();
  const caps = capsOf(c.greeting);
  assert.ok(caps.has('LOGINDISABLED') && caps.has('STARTTLS'));
  assert.ok(!caps.has('AUTH=PLAIN'));
  assert.equal(
    (await c.cmd(`LOGIN bob@example.com ${PASSWORD}`)).tagged,
    'A1 NO [PRIVACYREQUIRED] Use STARTTLS before LOGIN',
  );
  assert.match(
    (await c.cmd(`AUTHENTICATE PLAIN ${b64(`\0bob@example.com\0${PASSWORD}`)}`)).tagged,
    /^A2 NO \[PRIVACYREQUIRED\]/,
  );

  const u = await s.raw();
  // NOOP pipelined in the same packet as STARTTLS must not be executed (plaintext injection); startTls() also
  // fails if anything arrived in plaintext after the STARTTLS reply.
  u.write('S1 STARTTLS\r\nS2 NOOP\r\n');
  const seen: string[] = [];
  const s1 = await u.until('S1');
  seen.push(...s1.lines);
  assert.equal(s1.tagged, 'S1 OK Begin TLS negotiation now');
  assert.match(await u.startTls(), /^TLSv1\.[23]$/);
  u.write('S3 CAPABILITY\r\n');
  const s3 = await u.until('S3');
  seen.push(...s3.lines);
  assert.match(s3.tagged, /^S3 OK/);
  const capLine = s3.lines.find((l) => l.startsWith('* CAPABILITY'));
  assert.ok(capLine, `no CAPABILITY line in ${JSON.stringify(s3.lines)}`);
  const tlsCaps = capsOf(capLine);
  assert.ok(tlsCaps.has('AUTH=PLAIN'));
  assert.ok(!tlsCaps.has('STARTTLS') && !tlsCaps.has('LOGINDISABLED'));
  u.write(`S4 LOGIN bob@example.com ${PASSWORD}\r\nS5 STARTTLS\r\n`);
  const s4 = await u.until('S4');
  const s5 = await u.until('S5');
  seen.push(...s4.lines, ...s5.lines);
  assert.match(s4.tagged, /^S4 OK \[CAPABILITY/);
  assert.match(s5.tagged, /^S5 BAD STARTTLS is not allowed/);
  assert.ok(!seen.some((l) => l.startsWith('S2 ')), `S2 was answered: ${JSON.stringify(seen)}`);
});

test('implicit TLS on imaps_port: no STARTTLS, AUTH=PLAIN even with plaintext_auth never', async (t) => {
  const s = await imapServer(t, { imap: { plaintext_auth: 'never' } });
  const c = await s.raw({ tls: true });
  const caps = capsOf(c.greeting);
  assert.ok(caps.has('AUTH=PLAIN'));
  assert.ok(!caps.has('STARTTLS') && !caps.has('LOGINDISABLED'));
  assert.equal((await c.cmd('STARTTLS')).tagged, 'A1 NO TLS is already active');
  assert.match((await c.cmd(`LOGIN bob@example.com ${PASSWORD}`)).tagged, /^A2 OK /);
});

test('imapflow: STARTTLS on the imap port, login, capabilities; a wrong password is rejected', async (t) => {
  const s = await imapServer(t, { imap: { plaintext_auth: 'never' } });
  const c = flow(t, s.ports.imap, 'bob@example.com', { doSTARTTLS: true });
  await c.connect();
  assert.equal(c.secureConnection, true, 'upgraded with STARTTLS');
  assert.ok(c.authenticated);
  assert.ok(c.capabilities.has('UIDPLUS') && c.capabilities.has('QUOTA'));
  assert.ok(!c.capabilities.has('STARTTLS'));
  const box = await c.mailboxOpen('INBOX');
  assert.equal(box.exists, 0);
  await c.logout();

  const tlsClient = flow(t, s.ports.imaps, 'carol@example.com', { secure: true });
  await tlsClient.connect();
  assert.ok(tlsClient.secureConnection && tlsClient.authenticated);
  await tlsClient.logout();

  const bad = flow(t, s.ports.imap, 'bob@example.com', {
    doSTARTTLS: true,
    auth: { user: 'bob@example.com', pass: 'nope' },
  });
  await assert.rejects(bad.connect(), (e: Error & { authenticationFailed?: boolean; serverResponseCode?: string }) => {
    assert.equal(e.authenticationFailed, true);
    assert.equal(e.serverResponseCode, 'AUTHENTICATIONFAILED');
    return true;
  });
  // Without STARTTLS imapflow cannot log in: the server says LOGINDISABLED / PRIVACYREQUIRED.
  const plain = flow(t, s.ports.imap, 'bob@example.com', { doSTARTTLS: false });
  await assert.rejects(plain.connect());
  assert.equal(plain.authenticated, false);
});

const IMAPLIB_AUTH = `
import imaplib, ssl, sys, json
port, tport, user, pw = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {}
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4('127.0.0.1', port)
out['pre'] = sorted(m.capabilities)
try:
    m.login(user, pw)
except imaplib.IMAP4.error as e:
    out['plain_login'] = str(e)
m.starttls(ssl_context=ctx)
out['tls_caps'] = sorted(m.capabilities)
try:
    m.login(user, 'wrong')
except imaplib.IMAP4.error as e:
    out['bad'] = str(e)
typ, data = m.login(user, pw)
out['login'] = typ
typ, data = m.capability()
out['post'] = data[0].decode().split()
m.logout()
s = imaplib.IMAP4_SSL('127.0.0.1', tport, ssl_context=ctx)
out['ssl_login'] = s.login(user, pw)[0]
s.logout()
print(json.dumps(out))
`;

test('Python imaplib: LOGINDISABLED without TLS, starttls(), bad then good login; IMAP4_SSL on imaps', async (t) => {
  const s = await imapServer(t, { imap: { plaintext_auth: 'never' } });
  const r = await python(IMAPLIB_AUTH, [s.ports.imap, s.ports.imaps, 'bob@example.com', PASSWORD]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.pre.includes('LOGINDISABLED') && out.pre.includes('STARTTLS'));
  assert.match(out.plain_login, /LOGINDISABLED|PRIVACYREQUIRED/);
  assert.ok(out.tls_caps.includes('AUTH=PLAIN') && !out.tls_caps.includes('STARTTLS'));
  assert.match(out.bad, /AUTHENTICATIONFAILED/);
  assert.equal(out.login, 'OK');
  assert.ok(out.post.includes('UIDPLUS') && out.post.includes('IMAP4rev1'));
  assert.equal(out.ssl_login, 'OK');
});

test('curl imap:// (STARTTLS with --ssl-reqd) and imaps:// list mailboxes; a wrong password fails with login denied', async (t) => {
  const curl = needTool(t, 'curl', 'curl');
  if (!curl) return;
  const s = await imapServer(t, { imap: { plaintext_auth: 'never' } });
  s.app.repos.mailboxes.create(s.inbox('bob@example.com').user.id, 'Projects/2025');
  const base = ['-sS', '-k', '-u', `bob@example.com:${PASSWORD}`];
  const starttls = await run(curl, [...base, '--ssl-reqd', `imap://127.0.0.1:${s.ports.imap}/`]);
  assert.equal(starttls.code, 0, starttls.stderr);
  assert.match(starttls.stdout, /^\* LIST \(\\HasNoChildren\) "\/" "INBOX"\r?$/m);
  assert.match(starttls.stdout, /^\* LIST \(\\HasNoChildren \\Sent\) "\/" "Sent"\r?$/m);
  assert.match(starttls.stdout, /^\* LIST \(\\HasChildren\) "\/" "Projects"\r?$/m);
  assert.match(starttls.stdout, /^\* LIST \(\\HasNoChildren\) "\/" "Projects\/2025"\r?$/m);
  const implicit = await run(curl, [...base, `imaps://127.0.0.1:${s.ports.imaps}/`]);
  assert.equal(implicit.code, 0, implicit.stderr);
  assert.equal(implicit.stdout, starttls.stdout);
  // Without TLS the server refuses plaintext login: curl cannot authenticate.
  const plain = await run(curl, [...base, `imap://127.0.0.1:${s.ports.imap}/`]);
  assert.notEqual(plain.code, 0);
  const bad = await run(curl, ['-sS', '-k', '-u', 'bob@example.com:wrong', `imaps://127.0.0.1:${s.ports.imaps}/`]);
  assert.equal(bad.code, 67, `curl exit ${bad.code}: ${bad.stderr}`); // CURLE_LOGIN_DENIED
});
