// Authenticated submission (src/smtp/submission.ts): which senders a user may use (MAIL FROM and every From
// header address), the per-user message rate limit, headers added to what clients leave out, the Sent copy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mail, submissionServer } from './submissionSetup.ts';

test('MAIL FROM: own address, plus-address, alias naming the user and <> are accepted; anything else gets 553 5.7.1', async (t) => {
  const s = await submissionServer(t);
  const c = await s.session('alice@example.com');
  for (const ok of [
    'alice@example.com',
    'Alice@EXAMPLE.com',
    'alice+news@example.com',
    'team@example.com',
    'team+x@example.com',
    '',
  ]) {
    assert.equal((await c.cmd(`MAIL FROM:<${ok}>`)).code, 250, ok);
    assert.equal((await c.cmd('RSET')).code, 250);
  }
  for (const bad of ['bob@example.com', 'other@example.com', 'alice@other.example', 'ceo@bank.example']) {
    assert.deepEqual(
      (await c.cmd(`MAIL FROM:<${bad}>`)).lines,
      [`553 5.7.1 <${bad}>: Sender address rejected: not owned by user alice@example.com`],
      bad,
    );
  }
  const line = s.logged('message rejected').at(-1)!;
  assert.equal(line.reason, 'sender_not_owned');
  assert.equal(line.user, 'alice@example.com');
});

test('From header: every address must be owned (553 5.7.1 after DATA, nothing stored or queued); encoded and folded names are read right; no From is 550 5.6.0', async (t) => {
  const s = await submissionServer(t);
  const c = await s.session('alice@example.com');
  const send = (body: string) => c.send('alice@example.com', ['bob@example.com', 'far@remote.example'], body);
  const refused: [string, string][] = [
    ['Bob <bob@example.com>', 'bob@example.com'],
    ['Alice <alice@example.com>, Mallory <mallory@evil.example>', 'mallory@evil.example'],
    ['"alice@example.com" <ceo@bank.example>', 'ceo@bank.example'],
    ['=?utf-8?Q?alice=40example=2Ecom?= <ceo@bank.example>', 'ceo@bank.example'],
    ['Alice\r\n <ceo@bank.example>', 'ceo@bank.example'],
    ['list: alice@example.com, bob@example.com;', 'bob@example.com'],
  ];
  for (const [from, foreign] of refused) {
    const r = await send(mail({ from }));
    assert.deepEqual(
      r.data?.lines,
      [`553 5.7.1 <${foreign}>: Sender address rejected: not owned by user alice@example.com`],
      from,
    );
  }
  // A second From field cannot slip past.
  const twice = await send(mail({ headers: 'From: Bob <bob@example.com>\r\n' }));
  assert.equal(twice.data?.code, 553);
  for (const from of [false as const, 'Alice', 'undisclosed:;']) {
    const r = await send(mail({ from: from || '' }));
    assert.deepEqual(
      r.data?.lines,
      ['550 5.6.0 Message has no From header with an address (RFC 5322 3.6.2)'],
      String(from),
    );
  }
  assert.equal(s.folder('bob@example.com').rows.length, 0, 'nothing stored');
  assert.equal(s.queue().length, 0, 'nothing queued');

  // Accepted: encoded display name, folded field, plus-address and alias, a group of owned addresses.
  for (const from of [
    '=?utf-8?Q?Al=C3=AFce?= <alice@example.com>',
    '"Alice, the sender"\r\n\t<alice+folded@example.com>',
    'Team <team@example.com>',
    'us: alice@example.com, team@example.com;',
  ]) {
    const r = await send(mail({ from }));
    assert.match(r.data!.lines[0]!, /^250 2\.0\.0 /, from);
  }
  assert.equal(s.folder('bob@example.com').rows.length, 4);
  assert.equal(s.queue().length, 4);
});

test('Message-ID and Date are added when missing (RFC 6409 8), kept when present', async (t) => {
  const s = await submissionServer(t);
  const c = await s.session('alice@example.com');
  assert.equal(
    (await c.send('alice@example.com', ['bob@example.com'], mail({ subject: 'bare', date: false, id: false }))).data
      ?.code,
    250,
  );
  assert.equal((await c.send('alice@example.com', ['bob@example.com'], mail({ subject: 'complete' }))).data?.code, 250);
  const [bare, complete] = await s.texts('bob@example.com');
  const head = (m: string) => m.slice(0, m.indexOf('\r\n\r\n'));
  assert.match(head(bare!), /^Message-ID: <[0-9A-Z]+\.[0-9a-f]+@mail\.test\.example>$/m);
  assert.match(head(bare!), /^Date: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/m);
  assert.equal(head(complete!).match(/^Message-ID:/gim)?.length, 1);
  assert.equal(head(complete!).match(/^Date:/gim)?.length, 1);
  assert.match(head(complete!), /^Date: Wed, 02 Dec 2026 12:00:00 \+0000$/m);
  // The index has the added Message-ID.
  const row = s.folder('bob@example.com').rows[0]!;
  assert.match(String(row.message_id), /@mail\.test\.example>$/);
  // A forged Authentication-Results with our hostname is dropped, another one kept.
  const forged = 'Authentication-Results: mail.test.example; dkim=pass header.d=bank.example\r\n';
  const other = 'Authentication-Results: mx.other.example; spf=pass\r\n';
  assert.equal(
    (await c.send('alice@example.com', ['bob@example.com'], mail({ subject: 'ar', headers: forged + other }))).data
      ?.code,
    250,
  );
  const ar = (await s.texts('bob@example.com'))[2]!;
  assert.doesNotMatch(ar, /Authentication-Results: mail\.test\.example/);
  assert.match(ar, /Authentication-Results: mx\.other\.example/);
});

test('ratelimit_smtp_per_user of the sender domain: messages past it get 451 4.7.1 at MAIL and rate_limit_exceeded', async (t) => {
  const s = await submissionServer(t);
  s.app.repos.domains.update('example.com', { ratelimit_smtp_per_user: { count: 2, window_minutes: 60 } });
  const c = await s.session('alice@example.com');
  for (let i = 0; i < 2; i++)
    assert.equal((await c.send('alice@example.com', ['bob@example.com'], mail({ subject: `m${i}` }))).data?.code, 250);
  const limited = await c.cmd('MAIL FROM:<alice@example.com>');
  assert.equal(limited.code, 451);
  assert.match(limited.lines[0]!, /^451 4\.7\.1 Rate limit exceeded, try again in \d+ seconds$/);
  const line = s.logged('rate_limit_exceeded').at(-1)!;
  assert.equal(line.user, 'alice@example.com');
  assert.equal(line.rule, 'smtp_per_user');
  // Another user of the domain has a count of their own; the window slides on.
  const b = await s.session('bob@example.com');
  assert.equal((await b.cmd('MAIL FROM:<bob@example.com>')).code, 250);
  s.clock.now += 2 * 60 * 60_000;
  assert.equal((await c.cmd('MAIL FROM:<alice@example.com>')).code, 250);
  // Off with ratelimit_enabled.
  s.app.repos.domains.update('example.com', { ratelimit_enabled: false });
  for (let i = 0; i < 3; i++) {
    assert.equal((await c.cmd('RSET')).code, 250);
    assert.equal((await c.cmd('MAIL FROM:<alice@example.com>')).code, 250);
  }
});

test('queue.sent_copy on: a \\Seen copy in the Sent mailbox (created when missing); off: none', async (t) => {
  const on = await submissionServer(t, { queue: { sent_copy: true } });
  const c = await on.session('alice@example.com');
  assert.equal((await c.send('alice@example.com', ['far@remote.example'], mail({ subject: 'kept' }))).data?.code, 250);
  const sent = on.folder('alice@example.com', 'Sent');
  assert.deepEqual(
    sent.rows.map((r) => [r.subject, r.seen]),
    [['kept', true]],
  );
  assert.match((await on.texts('alice@example.com', 'Sent'))[0]!, /Subject: kept/);
  assert.equal(on.queue().length, 1);
  // Without a Sent mailbox one is made, with \Sent.
  const dave = on.app.repos.users.get('dave@other.example')!;
  on.app.mail.deleteMailbox(dave, 'Sent');
  const d = await on.session('dave@other.example');
  assert.equal(
    (await d.send('dave@other.example', ['bob@example.com'], mail({ from: 'dave@other.example' }))).data?.code,
    250,
  );
  const made = on.app.repos.mailboxes.get(dave.id, 'Sent')!;
  assert.equal(made.special_use, '\\Sent');
  assert.equal(on.folder('dave@other.example', 'Sent').rows.length, 1);
  assert.equal(on.folder('bob@example.com').rows.length, 1);

  const off = await submissionServer(t);
  const o = await off.session('alice@example.com');
  assert.equal((await o.send('alice@example.com', ['bob@example.com'], mail({ subject: 'not kept' }))).data?.code, 250);
  assert.equal(off.folder('alice@example.com', 'Sent').rows.length, 0);
  assert.equal(off.folder('bob@example.com').rows.length, 1);
});
