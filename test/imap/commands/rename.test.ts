/**
 * RENAME (src/imap/commands/rename.ts): children and Maildir++ folders move, RENAME INBOX, names freed by DELETE
 * or RENAME reused, other sessions follow a rename.
 * (Moved from test/imap/mailboxes.test.ts.)
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { message } from '../../helpers/smtp.ts';
import { imapServer } from '../setup.ts';
import { append, curFiles, listed, userRoot } from '../shared.ts';

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
  const renamed = s.nextChange('renamed');
  assert.match((await a.cmd('RENAME Bar Work/Bar')).tagged, /OK/);
  await renamed; // b's session has been handed the rename
  assert.match((await b.cmd('FETCH 1 BODY.PEEK[]')).raw, /BODY\[\] \{5\}\r\nHello\)/);
  await b.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await b.cmd('EXPUNGE');
  const root = s.curDir('bob@example.com').replace(/\/cur$/, '');
  const { readdirSync } = await import('node:fs');
  assert.deepEqual(readdirSync(`${root}/.Work.Bar/cur`), []);
});
