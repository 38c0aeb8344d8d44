/**
 * A complete Python imaplib session (a child process, run asynchronously): login, select, search, fetch, store
 * (system flags and keywords, added and removed), copy, expunge, logout; the server state is checked after it.
 * And mailbox management with imaplib: create, list, rename, status, unsubscribe/lsub, delete, namespace (moved
 * from test/imap/mailboxes.test.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { message } from '../helpers/smtp.ts';
import { PASSWORD, pythonOk } from './clients.ts';
import { imapServer } from './setup.ts';
import { userRoot } from './shared.ts';

const FLOW = `
import imaplib, sys, json
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
out = {}
out['login'] = m.login(sys.argv[2], sys.argv[3])[0]
typ, data = m.select('INBOX')
out['select'] = [typ, data[0].decode()]
out['all'] = m.search(None, 'ALL')[1][0].decode()
out['subject'] = m.search(None, 'SUBJECT', 'beta')[1][0].decode()
out['uid_search'] = m.uid('SEARCH', None, 'ALL')[1][0].decode()
typ, data = m.fetch('2', '(FLAGS RFC822.SIZE BODY.PEEK[])')
out['fetch_body'] = data[0][1].decode()
out['fetch_head'] = data[0][0].decode()
out['flags_before'] = m.fetch('2', '(FLAGS)')[1][0].decode()
out['store_add'] = m.store('1:2', '+FLAGS', '(\\\\Flagged $Todo $Later)')[1]
out['store_remove'] = m.store('1', '-FLAGS', '($Todo \\\\Flagged)')[1]
out['store_again'] = m.store('2', '+FLAGS', '($Todo)')[1]
out['flagged'] = m.search(None, 'FLAGGED')[1][0].decode()
out['keyword'] = m.search(None, 'KEYWORD', '$Todo')[1][0].decode()
out['unseen'] = m.search(None, 'UNSEEN')[1][0].decode()
out['copy'] = m.copy('1:2', 'Archive')[0]
out['uid_copy'] = m.uid('COPY', '3', 'Archive')[0]
out['copyuid'] = [x.decode() for x in m.response('COPYUID')[1]]
out['delete'] = m.store('1,3', '+FLAGS.SILENT', '(\\\\Deleted)')[1]
out['expunge'] = [x.decode() for x in m.expunge()[1] if x]
out['after'] = m.search(None, 'ALL')[1][0].decode()
out['status'] = m.status('Archive', '(MESSAGES)')[1][0].decode()
out['close'] = m.close()[0]
out['logout'] = m.logout()[0]
print(json.dumps(out, default=lambda b: b.decode()))
`;

test('Python imaplib: login, select, search, fetch, store, copy, expunge, logout', async (t) => {
  const s = await imapServer(t);
  const email = 'bob@example.com';
  for (const subj of ['alpha', 'beta', 'gamma']) await s.deliver(email, message(subj));
  await s.spoolSettled();
  const beta = s.inbox(email).rows[1]!;
  const out = JSON.parse(await pythonOk(FLOW, [s.ports.imap, email, PASSWORD]));
  assert.equal(out.login, 'OK');
  assert.deepEqual(out.select, ['OK', '3']);
  assert.equal(out.all, '1 2 3');
  assert.equal(out.subject, '2');
  assert.equal(out.uid_search, '1 2 3');
  assert.match(out.fetch_body, /^Return-Path: <sender@remote\.example>\r\n/);
  assert.match(out.fetch_body, /\r\nSubject: beta\r\n/);
  assert.equal(Buffer.byteLength(out.fetch_body), beta.size);
  assert.match(out.fetch_head, new RegExp(`RFC822\\.SIZE ${beta.size}`));
  assert.equal(out.flags_before, '2 (FLAGS (\\Recent))', 'BODY.PEEK does not set \\Seen');
  assert.deepEqual(out.store_add, [
    '1 (FLAGS (\\Flagged $Todo $Later \\Recent))',
    '2 (FLAGS (\\Flagged $Todo $Later \\Recent))',
  ]);
  assert.deepEqual(out.store_remove, ['1 (FLAGS ($Later \\Recent))']);
  assert.deepEqual(
    out.store_again,
    ['2 (FLAGS (\\Flagged $Todo $Later \\Recent))'],
    'adding a present keyword keeps it',
  );
  assert.equal(out.flagged, '2');
  assert.equal(out.keyword, '2');
  assert.equal(out.unseen, '1 2 3');
  assert.equal(out.copy, 'OK');
  assert.equal(out.uid_copy, 'OK');
  const archiveBox = s.app.repos.mailboxes.get(s.inbox(email).user.id, 'Archive')!;
  assert.deepEqual(out.copyuid, [`${archiveBox.uidvalidity} 1:2 1:2`, `${archiveBox.uidvalidity} 3 3`]);
  assert.deepEqual(out.delete, [null]);
  assert.deepEqual(out.expunge, ['3', '1']);
  assert.equal(out.after, '1');
  assert.equal(out.status, '"Archive" (MESSAGES 3)');
  assert.equal(out.close, 'OK');
  assert.equal(out.logout, 'BYE');

  // Server side: INBOX holds beta only, with its flags in the index and the Maildir name.
  const rows = s.inbox(email).rows;
  assert.deepEqual(
    rows.map((r) => [r.subject, r.flagged, r.seen, r.keywords]),
    [['beta', true, false, ['$Todo', '$Later']]],
  );
  // \Flagged plus keyword letters a ($Todo) and b ($Later) of the folder's dovecot-keywords.
  assert.deepEqual(
    readdirSync(s.curDir(email)).map((f) => f.replace(/^.*:2,/, '')),
    ['Fab'],
  );
  const archive = s.app.repos.mailboxes.get(rows.length ? s.inbox(email).user.id : 0, 'Archive')!;
  assert.deepEqual(
    s.app.repos.messages.rows(archive.id, s.app.repos.messages.uids(archive.id)).map((r) => [r.subject, r.keywords]),
    [
      ['alpha', ['$Later']],
      ['beta', ['$Todo', '$Later']],
      ['gamma', []],
    ],
  );
});

const IMAPLIB_MAILBOXES = `
import imaplib, sys, json
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
out = {}
out['create'] = m.create('Reports/2024')[0]
out['dup'] = m.create('Reports/2024')
out['list'] = [l.decode() for l in m.list('""', 'Reports*')[1]]
out['rename'] = m.rename('Reports', 'Archive/Reports')[0]
out['after'] = [l.decode() for l in m.list('Archive/', '*')[1]]
out['status'] = m.status('Archive/Reports/2024', '(MESSAGES UIDNEXT)')[1][0].decode()
out['unsub'] = m.unsubscribe('Archive/Reports/2024')[0]
out['lsub'] = [l.decode() for l in m.lsub('""', 'Archive/*')[1] if l]
out['delete'] = m.delete('Archive/Reports/2024')[0]
out['delete_again'] = m.delete('Archive/Reports/2024')
out['namespace'] = m.namespace()[1][0].decode()
m.logout()
print(json.dumps(out, default=lambda b: b.decode() if isinstance(b, bytes) else str(b)))
`;

test('Python imaplib: create, list, rename, status, unsubscribe/lsub, delete, namespace', async (t) => {
  const s = await imapServer(t);
  const out = JSON.parse(await pythonOk(IMAPLIB_MAILBOXES, [s.ports.imap, 'bob@example.com', PASSWORD]));
  assert.equal(out.create, 'OK');
  assert.deepEqual(out.dup, ['NO', ['[ALREADYEXISTS] Mailbox Reports/2024 already exists']]);
  assert.deepEqual(out.list, ['(\\HasChildren) "/" "Reports"', '(\\HasNoChildren) "/" "Reports/2024"']);
  assert.equal(out.rename, 'OK');
  assert.deepEqual(out.after, [
    '(\\HasChildren) "/" "Archive/Reports"',
    '(\\HasNoChildren) "/" "Archive/Reports/2024"',
  ]);
  assert.equal(out.status, '"Archive/Reports/2024" (MESSAGES 0 UIDNEXT 1)');
  assert.equal(out.unsub, 'OK');
  assert.deepEqual(out.lsub, ['(\\HasChildren) "/" "Archive/Reports"']);
  assert.equal(out.delete, 'OK');
  assert.deepEqual(out.delete_again, ['NO', ['[NONEXISTENT] Mailbox Archive/Reports/2024 does not exist']]);
  assert.equal(out.namespace, '(("" "/")) NIL NIL');
  const root = userRoot(s, 'bob@example.com');
  assert.ok(existsSync(join(root, '.Archive.Reports')) && !existsSync(join(root, '.Reports')));
  assert.ok(!existsSync(join(root, '.Archive.Reports.2024')));
});
