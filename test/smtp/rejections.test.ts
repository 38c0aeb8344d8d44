import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { ehlo, message, RawSmtp } from '../helpers/smtp.ts';
import { waitUntil } from '../helpers/wait.ts';
import { mailServer } from './setup.ts';

test('unknown user 550 5.1.1; non-local domain 554 5.7.1; open-relay tricks are all refused', async (t) => {
  const { app, ports } = await mailServer(t);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  assert.equal((await c.cmd('MAIL FROM:<a@remote.example>')).code, 250);
  const rcpt = async (a: string) => {
    const r = await c.cmd(`RCPT TO:${a}`);
    return `${r.code} ${r.text.slice(0, 5)}`;
  };
  assert.equal(await rcpt('<nobody@example.com>'), '550 5.1.1');
  assert.equal(await rcpt('<victim@elsewhere.example>'), '554 5.7.1');
  assert.equal(await rcpt('<victim%elsewhere.example@example.com>'), '554 5.7.1', 'percent hack');
  assert.equal(await rcpt('<elsewhere.example!victim@example.com>'), '554 5.7.1', 'bang path');
  assert.ok(
    ['554 5.7.1', '501 5.1.3'].includes(await rcpt('<"victim@elsewhere.example"@example.com>')),
    'quoted local part with @',
  );
  assert.equal(await rcpt('<@example.com:victim@elsewhere.example>'), '554 5.7.1', 'source route to a foreign domain');
  // smtp-server refuses a trailing dot as bad syntax before any lookup: the trick cannot relay.
  assert.equal(await rcpt('<victim@elsewhere.example.>'), '501 5.1.3', 'trailing dot');
  assert.equal(await rcpt('<victim@example.com.elsewhere.example>'), '554 5.7.1', 'local domain as a prefix');
  assert.equal(
    await rcpt('<bob@example.com.>'),
    '501 5.1.3',
    'a trailing dot is refused as syntax, also for local domains',
  );
  assert.equal(
    await rcpt('<@relay.example:carol@example.com>'),
    '250 2.1.5',
    'a source route to a local address is ignored (RFC 5321 C)',
  );
  const rejected = app.repos.deliveryEvents.list({ types: ['REJECTED'] });
  assert.deepEqual([...new Set(rejected.map((e) => e.reason))].sort(), ['relay_denied', 'unknown_user']);
  assert.equal(rejected.find((e) => e.reason === 'unknown_user')?.domain, 'example.com');
});

test('the resolver itself refuses routing characters hidden in quoted local parts (defense in depth)', async (t) => {
  const { app } = await mailServer(t);
  const { resolveRecipient } = await import('../../src/smtp/recipients.ts');
  for (const a of [
    '"victim@elsewhere.example"@example.com',
    '"victim%elsewhere.example"@example.com',
    '"a!b"@example.com',
  ]) {
    const r = resolveRecipient(app.repos, a);
    assert.equal(r.ok, false, a);
    if (!r.ok) assert.deepEqual([r.reply.code, r.reply.enhanced], [554, '5.7.1'], a);
  }
  const quoted = resolveRecipient(app.repos, '"Bob"@Example.com');
  assert.equal(quoted.ok && quoted.local[0]?.user.email, 'bob@example.com');
});

test('disabled domain and disabled user are refused with clear codes; the next transaction sees the change', async (t) => {
  const { app, ports } = await mailServer(t);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  await c.cmd('MAIL FROM:<a@remote.example>');
  await app.services.accounts.updateUser('test', 'carol@example.com', { status: 'disabled' });
  const user = await c.cmd('RCPT TO:<carol@example.com>');
  assert.equal(user.code, 550);
  assert.match(user.text, /^5\.2\.1 .*disabled/);
  await app.services.domains.update('test', 'other.example', { status: 'disabled' });
  const dom = await c.cmd('RCPT TO:<dave@other.example>');
  assert.equal(dom.code, 550);
  assert.match(dom.text, /^5\.7\.1 Domain other\.example is not accepting mail/);
  await app.services.domains.update('test', 'other.example', { status: 'active' });
  assert.equal((await c.cmd('RCPT TO:<dave@other.example>')).code, 250);
});

test('recipient lookups are cached, and every change through the API reaches the next RCPT (disable, delete, recreate, domain delete, IDN)', async (t) => {
  const { app, ports, inbox } = await mailServer(t);
  const { accounts, domains } = app.services;
  await domains.create('test', 'bücher.example', true);
  await accounts.createUser('test', 'jörg@bücher.example', TEST_PASSWORD);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  const rcpt = async (a: string) => {
    await c.cmd('RSET');
    await c.cmd('MAIL FROM:<a@remote.example>');
    return (await c.cmd(`RCPT TO:<${a}>`)).code;
  };
  // Each address is looked up (and cached) first, then changed.
  assert.equal(await rcpt('carol@example.com'), 250);
  accounts.updateUser('test', 'carol@example.com', { status: 'disabled' });
  assert.equal(await rcpt('carol@example.com'), 550);
  accounts.updateUser('test', 'carol@example.com', { status: 'active' });
  assert.equal(await rcpt('Carol@Example.COM'), 250);

  // Deleted, then created again: a new user with a new INBOX gets the next message.
  const before = inbox('carol@example.com').box.id;
  accounts.deleteUser('test', 'carol@example.com');
  assert.equal(await rcpt('carol@example.com'), 550);
  await accounts.createUser('test', 'carol@example.com', TEST_PASSWORD);
  assert.notEqual(inbox('carol@example.com').box.id, before);
  assert.equal((await c.send('a@remote.example', ['carol@example.com'], message('again'))).data?.code, 250);
  assert.deepEqual(
    inbox('carol@example.com').rows.map((r) => r.subject),
    ['again'],
  );

  // An IDN address, looked up in Unicode and changed through its Unicode form.
  assert.equal(await rcpt('JÖRG@bücher.example'), 250);
  accounts.updateUser('test', 'jörg@bücher.example', { status: 'disabled' });
  assert.equal(await rcpt('jörg@BÜCHER.example'), 550);

  // A deleted domain takes its users with it (no event per user).
  assert.equal(await rcpt('dave@other.example'), 250);
  domains.delete('test', 'other.example', true);
  assert.equal(await rcpt('dave@other.example'), 554);
  await domains.create('test', 'other.example', true);
  assert.equal(await rcpt('dave@other.example'), 550, 'the domain is back, its user is not');
  await accounts.createUser('test', 'dave@other.example', TEST_PASSWORD);
  assert.equal((await c.send('a@remote.example', ['dave@other.example'], message('new dave'))).data?.code, 250);
  assert.deepEqual(
    inbox('dave@other.example').rows.map((r) => r.subject),
    ['new dave'],
  );
});

test('quota: 452 4.2.2 at RCPT when the mailbox is full, 552 5.2.2 at DATA when the message does not fit', async (t) => {
  const { app, ports, inbox, curDir } = await mailServer(t);
  await app.services.accounts.updateUser('test', 'bob@example.com', { quota: 3000 });
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  const big = message('big', `${'x'.repeat(5000)}\r\n`);
  const r = await c.send('a@remote.example', ['bob@example.com'], big);
  assert.equal(r.rcpt[0]!.code, 250);
  assert.equal(r.data?.code, 552);
  assert.match(r.data!.text, /^5\.2\.2 /);
  assert.equal(inbox('bob@example.com').rows.length, 0);
  assert.ok(!existsSync(curDir('bob@example.com')) || readdirSync(curDir('bob@example.com')).length === 0);
  assert.equal((await c.send('a@remote.example', ['bob@example.com'], message('small'))).data?.code, 250);
  await app.services.accounts.updateUser('test', 'bob@example.com', {
    quota: inbox('bob@example.com').user.used_bytes,
  });
  const full = await c.send('a@remote.example', ['bob@example.com'], message('more'));
  assert.equal(full.rcpt[0]!.code, 452);
  assert.match(full.rcpt[0]!.text, /^4\.2\.2 /);
  // several recipients, one does not fit at DATA: a temporary 452 for all (nothing stored, nothing lost)
  await app.services.accounts.updateUser('test', 'bob@example.com', {
    quota: inbox('bob@example.com').user.used_bytes + 100,
  });
  await c.cmd('RSET');
  const multi = await c.send('a@remote.example', ['bob@example.com', 'carol@example.com'], big);
  assert.equal(multi.data?.code, 452);
  assert.equal(inbox('carol@example.com').rows.length, 0);
  assert.equal(app.repos.deliveryEvents.list({ types: ['REJECTED'] }).filter((e) => e.reason === 'quota').length, 3);
});

test('size: a message over max_message_size gets 552 5.3.4 and nothing is stored; SIZE= too big is refused at MAIL', async (t) => {
  const { ports, inbox, config } = await mailServer(t, { smtp: { max_message_size: 2048 } });
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  assert.equal((await c.cmd('MAIL FROM:<a@remote.example> SIZE=999999')).code, 552);
  const r = await c.send('a@remote.example', ['bob@example.com'], message('huge', `${'y'.repeat(4000)}\r\n`));
  assert.equal(r.data?.code, 552);
  assert.match(r.data!.text, /^5\.3\.4 /);
  assert.equal(inbox('bob@example.com').rows.length, 0);
  assert.deepEqual(readdirSync(join(config.storage.mail_dir, '.spool')), []);
  assert.deepEqual(readdirSync(join(config.storage.mail_dir, 'example.com/bob/tmp')), [], 'nothing left in tmp/');
  assert.equal(
    (await c.send('a@remote.example', ['bob@example.com'], message('fits'))).data?.code,
    250,
    'the session goes on',
  );
});

test('recipients per message are limited (452 4.5.3); too many refusals end the session with 421', async (t) => {
  const { ports } = await mailServer(t, { smtp: { max_recipients: 3, max_errors: 4 } });
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  await c.cmd('MAIL FROM:<a@remote.example>');
  for (const u of ['bob@example.com', 'carol@example.com', 'dave@other.example'])
    assert.equal((await c.cmd(`RCPT TO:<${u}>`)).code, 250);
  const fourth = await c.cmd('RCPT TO:<sales@example.com>');
  assert.equal(fourth.code, 452);
  assert.match(fourth.text, /^4\.5\.3 /);
  const d = await ehlo(ports.relay);
  t.after(() => d.close());
  await d.cmd('MAIL FROM:<a@remote.example>');
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push((await d.cmd(`RCPT TO:<guess${i}@example.com>`)).code);
  assert.deepEqual(codes, [550, 550, 550, 421]);
  assert.equal(await d.line(), null, 'connection closed');
});

test('connections per client address are limited (421 4.7.0)', async (t) => {
  const { ports } = await mailServer(t, { smtp: { max_connections_per_ip: 2 } });
  const a = await RawSmtp.connect(ports.relay);
  const b = await RawSmtp.connect(ports.relay);
  t.after(() => {
    a.close();
    b.close();
  });
  assert.equal((await a.reply()).code, 220);
  assert.equal((await b.reply()).code, 220);
  const c = await RawSmtp.connect(ports.relay);
  t.after(() => c.close());
  const r = await c.reply();
  assert.equal(r.code, 421);
  assert.match(r.text, /4\.7\.0 Too many connections/);
  a.close();
  // The server notices the close asynchronously: connect until greeted 220 (deadline), closing each 421.
  let code = 0;
  await waitUntil(
    async () => {
      const d = await RawSmtp.connect(ports.relay);
      t.after(() => d.close());
      code = (await d.reply()).code;
      if (code !== 220) d.close();
      return code === 220;
    },
    'a connection slot freed by the closed connection',
    { intervalMs: 20, detail: () => `last greeting ${code}` },
  );
  assert.equal(code, 220, 'a slot freed by a closed connection is reusable');
});

test('an over-long command line gets 421 and closes only that session; an idle session times out with 421', async (t) => {
  const { ports } = await mailServer(t, { smtp: { timeout: 1 } });
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  c.write(`MAIL FROM:<${'a'.repeat(200_000)}`);
  const r = await c.reply();
  assert.equal(r.code, 421);
  assert.match(r.text, /too long/i);
  const other = await ehlo(ports.relay);
  t.after(() => other.close());
  assert.equal((await other.cmd('NOOP')).code, 250, 'other sessions are unaffected');
  const t0 = performance.now();
  const idle = await other.reply();
  const waited = performance.now() - t0;
  assert.equal(idle.code, 421, 'idle session closed');
  assert.match(idle.text, /timeout/i);
  // Relative to the configured smtp.timeout (1 s): not before half of it, not after five times it.
  assert.ok(waited > 500 && waited < 5000, `closed after ${waited} ms (smtp.timeout 1 s)`);
});

test('a client that stalls in the middle of DATA gets 421 after the timeout; the partial message leaves nothing', async (t) => {
  const { ports, inbox, config } = await mailServer(t, { smtp: { timeout: 1 } });
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  assert.equal((await c.cmd('MAIL FROM:<a@remote.example>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<bob@example.com>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  // More than the in-memory spool limit: this part is already streaming into a file in bob's tmp/.
  c.write(`Subject: stalled\r\n\r\n${`${'x'.repeat(78)}\r\n`.repeat(5000)}`);
  const bob = join(config.storage.mail_dir, 'example.com', 'bob');
  await waitUntil(() => readdirSync(join(bob, 'tmp')).length > 0, "the message's file in tmp/");
  assert.equal(readdirSync(join(bob, 'tmp')).length, 1, 'the message is being written to tmp/');
  const r = await c.reply();
  assert.equal(r.code, 421);
  assert.match(r.text, /^4\.4\.2 .*timeout/i);
  await waitUntil(() => readdirSync(join(bob, 'tmp')).length === 0, 'the partial file to be removed', {
    detail: () => JSON.stringify(readdirSync(join(bob, 'tmp'))),
  });
  assert.deepEqual(readdirSync(join(bob, 'tmp')), [], 'the partial file is removed');
  assert.deepEqual(readdirSync(join(bob, 'cur')), []);
  assert.equal(inbox('bob@example.com').rows.length, 0);
  const again = await ehlo(ports.relay);
  t.after(() => again.close());
  assert.equal((await again.send('a@remote.example', ['bob@example.com'], message('whole'))).data?.code, 250);
});
