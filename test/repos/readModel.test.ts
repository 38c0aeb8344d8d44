import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDb } from '../helpers/db.ts';

test('readClient reads (relational queries, select, $count) and has nothing that writes', async (t) => {
  const { db, repos } = testDb(t);
  repos.domains.create('example.com', { useTemplate: true });
  const r = repos.readClient;
  for (const m of ['insert', 'update', 'delete', 'transaction', 'run', 'all', 'get', 'values', '$client'])
    assert.equal(m in r, false, `readClient.${m}`);
  assert.deepEqual(Object.keys(r._), ['relations']);
  assert.equal(r._.relations, db._.relations);
  assert.ok(Object.isFrozen(r));
  const names = (await r.query.domains.findMany({ columns: { name: true }, orderBy: { id: 'asc' } })).map(
    (d) => d.name,
  );
  assert.deepEqual(names, ['_default', 'example.com']);
  const domains = r._.relations.domains.table;
  assert.equal(
    (
      await r
        .select({ n: r.$count(domains) })
        .from(domains)
        .limit(1)
    )[0]?.n,
    2,
  );
});
