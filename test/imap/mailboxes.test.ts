/**
 * Mailbox management with real clients: CREATE, DELETE, RENAME (index and Maildir++ folders on disk),
 * SUBSCRIBE/UNSUBSCRIBE/LSUB, LIST patterns and LIST-EXTENDED, STATUS, NAMESPACE; over the raw wire, with
 * imapflow and with Python's imaplib.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RawImap } from '../helpers/imap.ts';
import { message } from '../helpers/smtp.ts';
import { flow, PASSWORD, pythonOk } from './clients.ts';
import { imapServer } from './setup.ts';

type Server = Awaited<ReturnType<typeof imapServer>>;

const userRoot = (s: Server, email: string) => {
  const [local, domain] = email.split('@');
  return join(s.config.storage.mail_dir, domain!, local!);
};
const curFiles = (dir: string) => (existsSync(join(dir, 'cur')) ? readdirSync(join(dir, 'cur')).sort() : []);

/** APPENDs a message (synchronizing literal) and returns its UID. */
async function append(c: RawImap, box: string, body: string): Promise<number> {
  const tag = c.nextTag();
  c.write(`${tag} APPEND "${box}" {${Buffer.byteLength(body)}}\r\n`);
  assert.match(await c.readLine(), /^\+ /);
  c.write(`${body}\r\n`);
  const r = await c.until(tag);
  const m = /OK \[APPENDUID \d+ (\d+)\]/.exec(r.tagged);
  assert.ok(m, r.tagged);
  return Number(m[1]);
}

/** `* LIST (attrs) "/" name` lines of a reply as [name, attrs] pairs. */
function listed(lines: string[], verb = 'LIST'): [string, string][] {
  return lines
    .filter((l) => l.startsWith(`* ${verb} `))
    .map((l) => {
      const m = new RegExp(`^\\* ${verb} \\(([^)]*)\\) "/" "?([^"]*)"?$`).exec(l);
      assert.ok(m, l);
      return [m[2]!, m[1]!];
    });
}

test('CREATE: nested names create parents and Maildir++ folders; USE sets the special use; duplicates and INBOX are ALREADYEXISTS', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw({ login: 'bob@example.com' });
  assert.equal((await c.cmd('CREATE Projects/2025/Q1')).tagged, 'A2 OK CREATE completed');
  const root = userRoot(s, 'bob@example.com');
  for (const d of ['.Projects', '.Projects.2025', '.Projects.2025.Q1']) {
    assert.ok(
      existsSync(join(root, d, 'cur')) && existsSync(join(root, d, 'new')) && existsSync(join(root, d, 'tmp')),
      d,
    );
    assert.ok(existsSync(join(root, d, 'maildirfolder')), `${d}/maildirfolder`);
  }
  assert.equal(
    (await c.cmd('CREATE Projects/2025')).tagged,
    'A3 NO [ALREADYEXISTS] Mailbox Projects/2025 already exists',
  );
  assert.equal((await c.cmd('CREATE inbox')).tagged, 'A4 NO [ALREADYEXISTS] INBOX already exists');
  // Names are case-sensitive except INBOX; a trailing delimiter is dropped.
  assert.equal((await c.cmd('CREATE projects/')).tagged, 'A5 OK CREATE completed');
  assert.equal((await c.cmd('CREATE "Starred" (USE (\\Flagged))')).tagged, 'A6 OK CREATE completed');
  assert.equal((await c.cmd('CREATE Bad (USE (\\Bogus))')).tagged, 'A7 NO [USEATTR] Unsupported special use \\Bogus');
  assert.match((await c.cmd('CREATE "a//b"')).tagged, /^A8 BAD /);
  assert.match((await c.cmd('CREATE "a*"')).tagged, /^A9 BAD /);
  // A literal '.' in a name must not become a Maildir++ hierarchy level.
  assert.equal((await c.cmd('CREATE "v1.2"')).tagged, 'A10 OK CREATE completed');
  assert.ok(existsSync(join(root, '.v1\\2e2', 'cur')));
  const r = await c.cmd('LIST "" *');
  assert.deepEqual(listed(r.lines), [
    ['INBOX', '\\HasNoChildren'],
    ['Archive', '\\HasNoChildren \\Archive'],
    ['Drafts', '\\HasNoChildren \\Drafts'],
    ['Junk', '\\HasNoChildren \\Junk'],
    ['Projects', '\\HasChildren'],
    ['Projects/2025', '\\HasChildren'],
    ['Projects/2025/Q1', '\\HasNoChildren'],
    ['Sent', '\\HasNoChildren \\Sent'],
    ['Starred', '\\HasNoChildren \\Flagged'],
    ['Trash', '\\HasNoChildren \\Trash'],
    ['projects', '\\HasNoChildren'],
    ['v1.2', '\\HasNoChildren'],
  ]);
  // Bob's mailboxes are his: carol sees none of them.
  const carol = await s.raw({ login: 'carol@example.com' });
  assert.ok(!listed((await carol.cmd('LIST "" *')).lines).some(([n]) => n.startsWith('Projects')));
});

test('DELETE: INBOX refused, unknown NONEXISTENT; messages go, used_bytes drops, the folder is removed, children stay', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw({ login: 'bob@example.com' });
  assert.equal((await c.cmd('DELETE INBOX')).tagged, 'A2 NO [CANNOT] INBOX cannot be deleted');
  assert.equal((await c.cmd('DELETE Nope')).tagged, 'A3 NO [NONEXISTENT] Mailbox Nope does not exist');
  await c.cmd('CREATE Old/Kid');
  const body = message('to delete').toString();
  await append(c, 'Old', body);
  await append(c, 'Old', body);
  await append(c, 'Old/Kid', body);
  await append(c, 'INBOX', body);
  const size = Buffer.byteLength(body);
  const used = () => s.app.repos.users.get('bob@example.com')!.used_bytes;
  assert.equal(used(), 4 * size);
  const root = userRoot(s, 'bob@example.com');
  assert.equal(curFiles(join(root, '.Old')).length, 2);
  // A session with Old selected is told BYE when another session deletes it.
  const other = await s.raw({ login: 'bob@example.com' });
  await other.cmd('SELECT Old');
  assert.match((await c.cmd('DELETE Old')).tagged, /^A\d+ OK DELETE completed$/);
  assert.equal(used(), 2 * size);
  assert.ok(!existsSync(join(root, '.Old')), 'folder removed');
  assert.equal(curFiles(join(root, '.Old.Kid')).length, 1, 'child folder kept');
  assert.equal(curFiles(root).length, 1, 'INBOX untouched');
  const st = await c.cmd('STATUS Old/Kid (MESSAGES)');
  assert.equal(st.lines[0], '* STATUS "Old/Kid" (MESSAGES 1)');
  assert.match((await c.cmd('SELECT Old')).tagged, /NO \[NONEXISTENT\]/);
  // Like Dovecot: that session is told BYE at its next command and disconnected.
  other.write('B1 NOOP\r\n');
  assert.equal(await other.readLine(), '* BYE The selected mailbox was deleted by another session');
  await assert.rejects(other.readLine(2000), /connection closed/);
  // Re-creating the name gives an empty mailbox with a new UIDVALIDITY.
  await c.cmd('CREATE Old');
  const st2 = await c.cmd('STATUS Old (MESSAGES UIDNEXT)');
  assert.equal(st2.lines[0], '* STATUS "Old" (MESSAGES 0 UIDNEXT 1)');
});

test('RENAME: children move with the parent, Maildir++ folders move on disk, messages stay readable', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw({ login: 'bob@example.com' });
  await c.cmd('CREATE Projects/2025');
  const body = message('renamed').toString();
  await append(c, 'Projects', body);
  await append(c, 'Projects/2025', body);
  const root = userRoot(s, 'bob@example.com');
  const before = curFiles(join(root, '.Projects.2025'));
  assert.equal(before.length, 1);
  assert.equal((await c.cmd('RENAME Projects Work/Projects')).tagged, 'A5 OK RENAME completed');
  assert.ok(!existsSync(join(root, '.Projects')) && !existsSync(join(root, '.Projects.2025')));
  assert.equal(curFiles(join(root, '.Work.Projects')).length, 1);
  // The parent the rename created has its Maildir++ folder (Dovecot lists folders from the directories).
  assert.ok(existsSync(join(root, '.Work', 'cur')) && existsSync(join(root, '.Work', 'maildirfolder')));
  assert.deepEqual(curFiles(join(root, '.Work.Projects.2025')), before);
  assert.deepEqual(listed((await c.cmd('LIST "" Work*')).lines), [
    ['Work', '\\HasChildren'],
    ['Work/Projects', '\\HasChildren'],
    ['Work/Projects/2025', '\\HasNoChildren'],
  ]);
  assert.equal((await c.cmd('SELECT Work/Projects/2025')).tagged, 'A7 OK [READ-WRITE] SELECT completed');
  const f = await c.cmd('FETCH 1 BODY.PEEK[]');
  assert.ok(f.lines[0]!.endsWith(`BODY[] {${Buffer.byteLength(body)}}\r\n${body})`), f.raw);
  assert.equal((await c.cmd('RENAME Nope X')).tagged, 'A9 NO [NONEXISTENT] Mailbox Nope does not exist');
  assert.match((await c.cmd('RENAME Sent Trash')).tagged, /^A10 NO \[ALREADYEXISTS\]/);
  assert.match((await c.cmd('RENAME Work Work/Sub')).tagged, /^A11 NO /);
  // Renaming the selected mailbox keeps the session usable.
  assert.equal((await c.cmd('RENAME Work/Projects/2025 Y2025')).tagged, 'A12 OK RENAME completed');
  assert.equal((await c.cmd('FETCH 1 BODY.PEEK[]')).lines.length, 1);
  assert.deepEqual(curFiles(join(root, '.Y2025')), before);
});

test('RENAME INBOX moves its messages into the new mailbox and leaves INBOX empty (files and index)', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', message('first'));
  await s.deliver('bob@example.com', message('second'));
  await s.spoolSettled();
  const root = userRoot(s, 'bob@example.com');
  assert.equal(curFiles(root).length + (existsSync(join(root, 'new')) ? readdirSync(join(root, 'new')).length : 0), 2);
  const c = await s.raw({ login: 'bob@example.com' });
  assert.equal((await c.cmd('RENAME INBOX "Old Mail"')).tagged, 'A2 OK RENAME completed');
  assert.equal((await c.cmd('STATUS INBOX (MESSAGES)')).lines[0], '* STATUS "INBOX" (MESSAGES 0)');
  assert.equal((await c.cmd('STATUS "Old Mail" (MESSAGES)')).lines[0], '* STATUS "Old Mail" (MESSAGES 2)');
  assert.equal(curFiles(root).length, 0);
  assert.equal(readdirSync(join(root, 'new')).length, 0);
  assert.equal(curFiles(join(root, '.Old Mail')).length, 2);
  await c.cmd('SELECT "Old Mail"');
  const f = await c.cmd('FETCH 1:* (FLAGS BODY.PEEK[])');
  assert.equal(f.lines.length, 2);
  assert.match(f.lines[0]!, /Subject: first/);
  assert.match(f.lines[1]!, /Subject: second/);
  // INBOX still receives mail.
  await s.deliver('bob@example.com', message('third'));
  assert.equal((await c.cmd('STATUS INBOX (MESSAGES)')).lines[0], '* STATUS "INBOX" (MESSAGES 1)');
  assert.equal(
    s.app.repos.users.get('bob@example.com')!.used_bytes,
    s.inbox('bob@example.com').rows[0]!.size +
      Number(/SIZE (\d+)/.exec((await c.cmd('STATUS "Old Mail" (SIZE)')).lines[0]!)![1]),
  );
});

test('SUBSCRIBE, UNSUBSCRIBE and LSUB; LIST (SUBSCRIBED) and RETURN (SUBSCRIBED)', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw({ login: 'bob@example.com' });
  await c.cmd('CREATE Lists/rust');
  await c.cmd('UNSUBSCRIBE Lists/rust');
  await c.cmd('UNSUBSCRIBE Lists');
  await c.cmd('UNSUBSCRIBE Junk');
  assert.equal((await c.cmd('UNSUBSCRIBE Nope')).tagged, 'A6 OK UNSUBSCRIBE completed');
  assert.equal((await c.cmd('SUBSCRIBE Nope')).tagged, 'A7 NO [NONEXISTENT] Mailbox Nope does not exist');
  const lsub = listed((await c.cmd('LSUB "" *')).lines, 'LSUB').map(([n]) => n);
  assert.deepEqual(lsub, ['INBOX', 'Archive', 'Drafts', 'Sent', 'Trash']);
  await c.cmd('SUBSCRIBE Lists/rust');
  assert.deepEqual(listed((await c.cmd('LSUB "" Lists/*')).lines, 'LSUB'), [['Lists/rust', '\\HasNoChildren']]);
  // LSUB with % shows an unsubscribed parent of a subscribed child as \Noselect (RFC 3501 6.3.9).
  const pct = listed((await c.cmd('LSUB "" L%')).lines, 'LSUB');
  assert.deepEqual(pct, [['Lists', '\\Noselect']]);
  const sub = listed((await c.cmd('LIST (SUBSCRIBED) "" *')).lines);
  assert.ok(sub.every(([, a]) => a.includes('\\Subscribed')));
  assert.deepEqual(
    sub.map(([n]) => n),
    ['INBOX', 'Archive', 'Drafts', 'Lists/rust', 'Sent', 'Trash'],
  );
  const ret = listed((await c.cmd('LIST "" % RETURN (SUBSCRIBED)')).lines);
  assert.deepEqual(
    ret.filter(([, a]) => !a.includes('\\Subscribed')).map(([n]) => n),
    ['Junk', 'Lists'],
  );
});

test('LIST patterns: * and %, reference, INBOX case-insensitive, LIST "" "" delimiter, LIST-EXTENDED selection and RETURN options', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', message('one'));
  await s.deliver('bob@example.com', message('two'));
  const c = await s.raw({ login: 'bob@example.com' });
  for (const n of ['Work/a', 'Work/b/c', 'Workshop', 'INBOX/Sub']) await c.cmd(`CREATE ${n}`);
  const names = async (cmd: string) => listed((await c.cmd(cmd)).lines).map(([n]) => n);
  assert.deepEqual(await names('LIST "" Work%'), ['Work', 'Workshop']);
  assert.deepEqual(await names('LIST "" Work*'), ['Work', 'Work/a', 'Work/b', 'Work/b/c', 'Workshop']);
  assert.deepEqual(await names('LIST "" Work/%'), ['Work/a', 'Work/b']);
  assert.deepEqual(await names('LIST Work/ %'), ['Work/a', 'Work/b']);
  assert.deepEqual(await names('LIST Work/ *'), ['Work/a', 'Work/b', 'Work/b/c']);
  assert.deepEqual(await names('LIST "" %/%'), ['INBOX/Sub', 'Work/a', 'Work/b']);
  assert.deepEqual(await names('LIST "" inbox'), ['INBOX']);
  assert.deepEqual(await names('LIST "" InBoX/%'), ['INBOX/Sub']);
  assert.deepEqual(await names('LIST "" nothing*'), []);
  assert.deepEqual((await c.cmd('LIST "" ""')).lines, ['* LIST (\\Noselect) "/" ""']);
  assert.deepEqual((await c.cmd('LIST Work/ ""')).lines, ['* LIST (\\Noselect) "/" ""']);
  // Several patterns at once (LIST-EXTENDED).
  assert.deepEqual(await names('LIST "" (Sent Trash)'), ['Sent', 'Trash']);
  assert.deepEqual(listed((await c.cmd('LIST (SPECIAL-USE) "" *')).lines), [
    ['Archive', '\\HasNoChildren \\Archive'],
    ['Drafts', '\\HasNoChildren \\Drafts'],
    ['Junk', '\\HasNoChildren \\Junk'],
    ['Sent', '\\HasNoChildren \\Sent'],
    ['Trash', '\\HasNoChildren \\Trash'],
  ]);
  await c.cmd('SELECT INBOX');
  await c.cmd('STORE 1 +FLAGS (\\Seen)');
  const r = await c.cmd('LIST "" % RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))');
  assert.equal(r.tagged, `${r.tagged.split(' ')[0]} OK LIST completed`);
  const i = r.lines.indexOf('* LIST (\\HasChildren) "/" "INBOX"');
  assert.ok(i >= 0, r.raw);
  assert.equal(r.lines[i + 1], '* STATUS "INBOX" (MESSAGES 2 UNSEEN 1)');
  const w = r.lines.indexOf('* LIST (\\HasChildren) "/" "Work"');
  assert.equal(r.lines[w + 1], '* STATUS "Work" (MESSAGES 0 UNSEEN 0)');
  assert.ok(r.lines.includes('* LIST (\\HasNoChildren \\Sent) "/" "Sent"'));
  assert.match((await c.cmd('LIST (BOGUS) "" *')).tagged, /BAD Unknown LIST selection option BOGUS/);
  assert.match((await c.cmd('LIST "" * RETURN (BOGUS)')).tagged, /BAD Unknown LIST return option BOGUS/);
});

test('STATUS items and NAMESPACE', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', message('one'));
  await s.deliver('bob@example.com', message('two'));
  await s.deliver('bob@example.com', message('three'));
  const rows = s.inbox('bob@example.com').rows;
  const c = await s.raw({ login: 'bob@example.com' });
  const before = await c.cmd('STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE DELETED)');
  const uv = s.inbox('bob@example.com').box.uidvalidity;
  const size = rows.reduce((n, r) => n + r.size, 0);
  assert.equal(
    before.lines[0],
    `* STATUS "INBOX" (MESSAGES 3 RECENT 3 UIDNEXT 4 UIDVALIDITY ${uv} UNSEEN 3 SIZE ${size} DELETED 0)`,
  );
  const other = await s.raw({ login: 'bob@example.com' });
  await other.cmd('SELECT INBOX');
  await other.cmd('STORE 1 +FLAGS (\\Seen \\Deleted)');
  const after = await c.cmd('STATUS inbox (UNSEEN DELETED RECENT HIGHESTMODSEQ)');
  const modseq = s.inbox('bob@example.com').box.highestmodseq;
  assert.equal(after.lines[0], `* STATUS "INBOX" (UNSEEN 2 DELETED 1 RECENT 0 HIGHESTMODSEQ ${modseq})`);
  assert.match((await c.cmd('STATUS Nope (MESSAGES)')).tagged, /NO \[NONEXISTENT\]/);
  assert.match((await c.cmd('STATUS INBOX (FOO)')).tagged, /BAD Unknown STATUS item FOO/);
  assert.match((await c.cmd('STATUS INBOX ()')).tagged, /BAD /);
  assert.deepEqual((await c.cmd('NAMESPACE')).lines, ['* NAMESPACE (("" "/")) NIL NIL']);
});

test('imapflow: list(), listTree(), status(), mailboxCreate/Rename/Delete', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', message('one'));
  const c = flow(t, s.ports.imap, 'bob@example.com');
  await c.connect();
  const created = await c.mailboxCreate(['Clients', 'Acme']);
  assert.equal(created.path, 'Clients/Acme');
  assert.equal(created.created, true);
  const list = await c.list({ statusQuery: { messages: true, unseen: true } });
  const byPath = new Map(list.map((m) => [m.path, m]));
  assert.equal(byPath.get('INBOX')!.specialUse, '\\Inbox');
  assert.equal(byPath.get('INBOX')!.status!.messages, 1);
  assert.equal(byPath.get('INBOX')!.status!.unseen, 1);
  assert.equal(byPath.get('Sent')!.specialUse, '\\Sent');
  assert.equal(byPath.get('Trash')!.specialUse, '\\Trash');
  assert.equal(byPath.get('Clients/Acme')!.delimiter, '/');
  assert.equal(byPath.get('Clients/Acme')!.parentPath, 'Clients');
  assert.ok(byPath.get('Clients')!.flags.has('\\HasChildren'));
  const tree = await c.listTree();
  const clients = tree.folders!.find((f) => f.path === 'Clients')!;
  assert.deepEqual(
    clients.folders!.map((f) => f.path),
    ['Clients/Acme'],
  );
  const renamed = await c.mailboxRename('Clients', 'Customers');
  assert.equal(renamed.newPath, 'Customers');
  const st = await c.status('Customers/Acme', { messages: true, uidNext: true, uidValidity: true });
  assert.ok(st);
  assert.equal(st.messages, 0);
  assert.equal(st.uidNext, 1);
  assert.ok(Number(st.uidValidity) > 0);
  await c.mailboxDelete('Customers/Acme');
  const paths = (await c.list()).map((m) => m.path);
  assert.ok(!paths.includes('Customers/Acme') && !paths.includes('Clients/Acme'));
  assert.ok(paths.includes('Customers'));
  await assert.rejects(c.mailboxDelete('Customers/Acme'));
  await c.logout();
  const root = userRoot(s, 'bob@example.com');
  assert.ok(existsSync(join(root, '.Customers')) && !existsSync(join(root, '.Customers.Acme')));
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

test('a folder deleted or renamed away can be created again and used; other sessions follow a rename', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com');
  const a = await s.raw({ login: 'bob@example.com' });
  for (const cmd of ['CREATE Foo', 'DELETE Foo', 'CREATE Foo']) assert.match((await a.cmd(cmd)).tagged, /OK/, cmd);
  assert.match((await a.cmd('APPEND Foo {5}\r\nHello')).tagged, /OK \[APPENDUID/);
  assert.match((await a.cmd('RENAME Foo Bar')).tagged, /OK/);
  assert.match((await a.cmd('CREATE Foo')).tagged, /OK/);
  await a.cmd('SELECT INBOX');
  assert.match((await a.cmd('COPY 1 Foo')).tagged, /OK \[COPYUID/);
  // b has Bar selected while a renames it: b's FETCH still finds the file, b's EXPUNGE removes it.
  const b = await s.raw({ login: 'bob@example.com' });
  await b.cmd('SELECT Bar');
  assert.match((await a.cmd('RENAME Bar Work/Bar')).tagged, /OK/);
  await new Promise((r) => setTimeout(r, 50));
  assert.match((await b.cmd('FETCH 1 BODY.PEEK[]')).raw, /BODY\[\] \{5\}\r\nHello\)/);
  await b.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await b.cmd('EXPUNGE');
  const root = s.curDir('bob@example.com').replace(/\/cur$/, '');
  const { readdirSync } = await import('node:fs');
  assert.deepEqual(readdirSync(`${root}/.Work.Bar/cur`), []);
});
