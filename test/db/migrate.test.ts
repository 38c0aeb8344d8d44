import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { closeDatabase, MIGRATIONS_FOLDER, migrate, openDatabase } from '../../src/db/client.ts';
import { tmpDir } from '../helpers/tmp.ts';

const EXPECTED_TABLES = [
  'aliases',
  'api_tokens',
  'app_passwords',
  'audit_log',
  'blocked_ips',
  'delivery_events',
  'dkim_keys',
  'domain_admins',
  'domains',
  'greylist',
  'mailbox_expunges',
  'mailboxes',
  'messages',
  'mta_sts_policies',
  'outbound_queue',
  'rate_limit_counters',
  'recovery_codes',
  'sessions',
  'users',
];

test('migrations apply on an empty database, then a re-run applies nothing and keeps data', (t) => {
  const path = join(tmpDir(t), 'm.db');
  const db = openDatabase({ path, walEnabled: true, busyTimeoutMs: 1000 });
  t.after(() => closeDatabase(db));
  const folders = readdirSync(MIGRATIONS_FOLDER).filter((f) => /^\d+_/.test(f));
  assert.ok(folders.length >= 1);
  assert.equal(migrate(db), folders.length);
  const tables = (
    db.$client
      .prepare(
        "select name from sqlite_master where type='table' and name not like '\\_\\_%' escape '\\' and name not like 'sqlite_%' order by name",
      )
      .all() as { name: string }[]
  ).map((r) => r.name);
  assert.deepEqual(tables, EXPECTED_TABLES);
  db.$client.prepare("insert into domains (name) values ('keep.example')").run();
  assert.equal(migrate(db), 0);
  assert.equal((db.$client.prepare('select count(*) n from domains').get() as { n: number }).n, 1);
});

test('pragmas: WAL when wal_enabled, rollback journal otherwise; foreign keys on; synchronous FULL', (t) => {
  const dir = tmpDir(t);
  const wal = openDatabase({ path: join(dir, 'a.db'), walEnabled: true, busyTimeoutMs: 1234 });
  const del = openDatabase({ path: join(dir, 'b.db'), walEnabled: false, busyTimeoutMs: 1000 });
  t.after(() => {
    closeDatabase(wal);
    closeDatabase(del);
  });
  assert.equal(wal.$client.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(del.$client.pragma('journal_mode', { simple: true }), 'delete');
  assert.equal(wal.$client.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(wal.$client.pragma('synchronous', { simple: true }), 2);
  assert.equal(wal.$client.pragma('busy_timeout', { simple: true }), 1234);
});
