/**
 * Quota (src/imap/commands/quota.ts): APPEND and COPY over the quota are OVERQUOTA and store nothing; the
 * GETQUOTAROOT/GETQUOTA figures.
 * (Moved from test/imap/append.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imapServer } from '../setup.ts';
import { cur, folder } from '../shared.ts';

test('quota: APPEND and COPY over the quota are NO [OVERQUOTA] and store nothing; GETQUOTAROOT/GETQUOTA figures match', async (t) => {
  const s = await imapServer(t);
  const email = 'bob@example.com';
  s.app.repos.users.update(email, { quota: 10 * 1024 });
  const c = await s.raw({ login: email });
  const msg = `Subject: q\r\n\r\n${'q'.repeat(3000)}\r\n`;
  for (let i = 0; i < 3; i++) assert.match((await c.cmd(`APPEND INBOX {${msg.length}+}\r\n${msg}`)).tagged, / OK /);
  const used = () => s.app.repos.users.get(email)!.used_bytes;
  assert.equal(used(), 3 * msg.length);
  const q = await c.cmd('GETQUOTAROOT INBOX');
  assert.deepEqual(q.lines, [
    '* QUOTAROOT "INBOX" ""',
    `* QUOTA "" (STORAGE ${Math.ceil((3 * msg.length) / 1024)} 10)`,
  ]);
  assert.deepEqual((await c.cmd('GETQUOTA ""')).lines, [q.lines[1]]);
  const over = await c.cmd(`APPEND Drafts {${msg.length}+}\r\n${msg}`);
  assert.equal(over.tagged, 'A7 NO [OVERQUOTA] Quota exceeded');
  assert.equal(used(), 3 * msg.length);
  assert.deepEqual(cur(folder(s, email, 'Drafts')), []);
  assert.equal((await c.cmd('STATUS Drafts (MESSAGES UIDNEXT)')).lines[0], '* STATUS "Drafts" (MESSAGES 0 UIDNEXT 1)');
  await c.cmd('SELECT INBOX');
  assert.match((await c.cmd('COPY 1 Archive')).tagged, /^A10 NO \[OVERQUOTA\]/);
  assert.deepEqual(cur(folder(s, email, 'Archive')), []);
  // MOVE within the account does not change usage and is allowed.
  assert.match((await c.cmd('MOVE 1 Archive')).tagged, /^A11 OK /);
  assert.equal(used(), 3 * msg.length);
  // Raising the quota applies at once.
  s.app.repos.users.update(email, { quota: 20 * 1024 });
  assert.match((await c.cmd(`APPEND Drafts {${msg.length}+}\r\n${msg}`)).tagged, /^A12 OK \[APPENDUID/);
  assert.deepEqual((await c.cmd('GETQUOTA ""')).lines, [
    `* QUOTA "" (STORAGE ${Math.ceil((4 * msg.length) / 1024)} 20)`,
  ]);
  assert.match((await c.cmd('SETQUOTA "" (STORAGE 99999)')).tagged, /NO \[NOPERM\]/);
  // No user quota: the domain's default applies.
  s.app.repos.users.update(email, { quota: null });
  const def = s.app.repos.domains.get('example.com')!.default_quota;
  assert.ok(def > 0);
  assert.deepEqual((await c.cmd('GETQUOTA ""')).lines, [
    `* QUOTA "" (STORAGE ${Math.ceil(used() / 1024)} ${Math.floor(def / 1024)})`,
  ]);
});
