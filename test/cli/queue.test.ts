import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { loadConfig } from '../../src/config/load.ts';
import { reopenDb } from '../helpers/db.ts';
import { seedQueue, setQueueStatus } from '../helpers/queue.ts';
import { spawnCli, testConfigFile } from '../helpers/server.ts';
import { tmpDir } from '../helpers/tmp.ts';

function io(cwd: string): CliIo & { stdout: string; stderr: string } {
  const o = { stdout: '', stderr: '', env: {}, cwd } as CliIo & { stdout: string; stderr: string };
  o.out = (s) => {
    o.stdout += s;
  };
  o.err = (s) => {
    o.stderr += s;
  };
  return o;
}

async function setup(t: { after(fn: () => unknown): void }) {
  const dir = tmpDir(t);
  const { file } = await testConfigFile(dir);
  const { config } = loadConfig({ file, env: {} });
  const { repos, db } = reopenDb(t, config.database.path);
  const seeded = seedQueue(repos, config.storage.mail_dir);
  const run = async (...argv: string[]) => {
    const o = io(dir);
    const code = await main(['queue', ...argv, '--config', file], o);
    return { code, out: o.stdout, err: o.stderr };
  };
  return { dir, file, repos, db, run, ...seeded };
}

test('mailyard queue list: a table, filters, --json; bad usage exits 2', async (t) => {
  const { run, db, rows } = await setup(t);
  const [a, b, c] = rows;
  setQueueStatus(db, b!.id, 'deferred', { attempts: 2, last_error: '451 4.7.1 greylisted, try again later' });
  setQueueStatus(db, c!.id, 'sending');

  const all = await run('list');
  assert.equal(all.code, 0, all.err);
  const lines = all.out.trimEnd().split('\n');
  assert.match(lines[0]!, /^ID\s+QUEUE ID\s+RECIPIENT\s+STATUS\s+ATTEMPTS\s+NEXT ATTEMPT \(UTC\)\s+LAST ERROR$/);
  assert.equal(lines.length, 5);
  assert.match(
    lines[2]!,
    new RegExp(
      `^${b!.id}\\s+Q1\\s+carol@remote\\.example\\s+deferred\\s+2\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+451 4\\.7\\.1 greylisted`,
    ),
  );
  assert.match(lines[3]!, new RegExp(`^${c!.id}\\s+Q1\\s+dave@other\\.example\\s+sending\\s+0\\s+-\\s+-$`));

  const filtered = await run('list', '--status', 'deferred,queued', '--domain', 'remote.example');
  assert.deepEqual(
    filtered.out
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(/\s+/)[0])),
    [a!.id, b!.id, rows[3]!.id],
  );
  const json = await run('list', '--json', '--status', 'sending');
  assert.deepEqual(
    JSON.parse(json.out).map((e: any) => [e.id, e.status, e.recipient]),
    [[c!.id, 'sending', 'dave@other.example']],
  );
  const limited = await run('list', '--limit', '1');
  assert.match(limited.err, /1 of 4 shown/);
  assert.equal((await run('list', '--status', 'delivered')).out, 'the queue is empty\n');

  for (const argv of [
    ['list', '--status', 'stuck'],
    ['list', 'extra'],
    ['retry'],
    ['retry', 'Q1', '--all'],
    ['delete', '--all'],
    ['delete'],
    ['frobnicate'],
    ['retry', 'Q1', '--json'],
  ]) {
    const r = await run(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, /usage: mailyard queue/);
  }
});

test('mailyard queue retry and delete: by id, queue id or --all; refusals and unknown entries exit 1', async (t) => {
  const { run, db, repos, rows, spool1, spool2 } = await setup(t);
  const [a, b, c, d] = rows;
  setQueueStatus(db, a!.id, 'deferred', { attempts: 3, next_attempt_at: Date.now() + 3_600_000 });
  setQueueStatus(db, b!.id, 'sending');

  const one = await run('retry', String(a!.id));
  assert.deepEqual([one.code, one.out], [0, 'retried 1 entry\n']);
  assert.equal(repos.queue.get(a!.id)!.attempts, 3);
  assert.ok(repos.queue.get(a!.id)!.next_attempt_at <= Date.now());

  const busy = await run('retry', String(b!.id));
  assert.equal(busy.code, 1);
  assert.match(busy.err, new RegExp(`refused: ${b!.id} \\(Q1 to carol@remote\\.example\\) is sending`));
  const q = await run('retry', 'Q1');
  assert.equal(q.code, 0, 'partly refused is still a success');
  assert.equal(q.out, 'retried 2 entries\n');
  assert.equal((await run('retry', '--all')).out, 'retried 3 entries\n');
  const missing = await run('retry', 'NOPE');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /queue id "NOPE" not found/);

  assert.equal((await run('delete', String(b!.id))).code, 1, 'being sent');
  const del = await run('delete', String(d!.id));
  assert.deepEqual([del.code, del.out], [0, 'deleted 1 entry\n']);
  assert.equal(existsSync(spool2), false);
  assert.equal((await run('delete', String(d!.id))).code, 1, 'already gone');
  const rest = await run('delete', 'Q1');
  assert.equal(rest.out, 'deleted 2 entries\n');
  assert.equal(existsSync(spool1), true, 'the entry being sent still uses it');
  assert.deepEqual(
    repos.queue.list().map((x) => x.id),
    [b!.id],
  );
  assert.equal(c!.queue_id, 'Q1');
  assert.ok(repos.audit.list().some((x) => x.actor === 'cli' && x.action === 'queue.delete' && x.target === 'Q1'));
});

test('the real executable: mailyard queue list exits 0, help lists the queue command', async (t) => {
  const { file } = await setup(t);
  const p = spawnCli(['queue', 'list', '--config', file], {}, t);
  const { code } = await p.exited;
  assert.equal(code, 0, p.stderr());
  assert.match(p.stdout(), /^ID\s+QUEUE ID/);
  assert.equal(p.stdout().trimEnd().split('\n').length, 5);
  const o = io(process.cwd());
  assert.equal(await main(['help'], o), 0);
  assert.match(o.stdout, /^ {2}queue /m);
});
