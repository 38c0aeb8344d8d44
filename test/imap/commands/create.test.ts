/**
 * CREATE (src/imap/commands/create.ts): nested names, Maildir++ folders, USE special-use, ALREADYEXISTS.
 * (Moved from test/imap/mailboxes.test.ts.)
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { imapServer } from '../setup.ts';
import { listed, userRoot } from '../shared.ts';

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
