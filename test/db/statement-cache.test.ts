import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { domains } from '../../schema/db/domains.ts';
import { testDb } from '../helpers/db.ts';
import { ROOT } from '../helpers/server.ts';

test('queries under GC pressure do not abort the process (better-sqlite3 Statement GC bug on Node >= 24.19)', async () => {
  const script = join(ROOT, 'test/fixtures/scripts/statement-gc-stress.ts');
  // 100k iterations (200k queries): without the cache, Node 24.21 aborted well within that.
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, '100000'], { cwd: ROOT });
  assert.equal(stdout.trim(), 'ok 100000');
});

test('a cached statement serves object, raw and pluck callers correctly, in any order', (t) => {
  const { db } = testDb(t);
  const sql = "select name, status from domains where name = '_default'";
  const a = db.$client.prepare(sql);
  const b = db.$client.prepare(sql).raw();
  const c = db.$client.prepare(sql).pluck();
  assert.deepEqual(b.get(), ['_default', 'active']);
  assert.deepEqual(a.get(), { name: '_default', status: 'active' });
  assert.equal(c.get(), '_default');
  assert.deepEqual(a.all(), [{ name: '_default', status: 'active' }]);
  assert.deepEqual(b.all(), [['_default', 'active']]);
  assert.equal(db.$client.pragma('foreign_keys', { simple: true }), 1);
  assert.deepEqual(db.$client.pragma('journal_mode'), [{ journal_mode: 'wal' }]);
  // drizzle's own paths (objects and arrays modes) share statements the same way.
  assert.deepEqual(
    db
      .select()
      .from(domains)
      .all()
      .map((d) => d.name),
    ['_default'],
  );
});
