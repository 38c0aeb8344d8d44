import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureMaildir, sweepTmp, TMP_MAX_AGE_MS } from '../../src/store/maildir.ts';
import { tmpDir } from '../helpers/tmp.ts';
import { waitUntil } from '../helpers/wait.ts';

const aged = (path: string, ms: number) => {
  const t = (Date.now() - ms) / 1000;
  utimesSync(path, t, t);
};

test('tmp/ sweep: files untouched for 36 hours are removed, newer ones and directories are kept', async (t) => {
  const tmp = join(tmpDir(t), 'tmp');
  mkdirSync(join(tmp, 'a-directory'), { recursive: true });
  for (const f of ['crash-leftover', 'just-old-enough', 'in-progress']) writeFileSync(join(tmp, f), 'x');
  aged(join(tmp, 'crash-leftover'), 3 * 24 * 3600 * 1000);
  aged(join(tmp, 'just-old-enough'), TMP_MAX_AGE_MS + 60_000);
  aged(join(tmp, 'in-progress'), TMP_MAX_AGE_MS - 60_000);
  aged(join(tmp, 'a-directory'), 3 * 24 * 3600 * 1000);
  assert.equal(await sweepTmp(tmp), 2);
  assert.deepEqual(readdirSync(tmp).sort(), ['a-directory', 'in-progress']);
  assert.equal(await sweepTmp(join(tmp, 'missing')), 0, 'a missing tmp/ is not an error');
});

test('a folder used for the first time sweeps its tmp/ (leftovers of a crash during delivery)', async (t) => {
  const dir = join(tmpDir(t), 'example.com', 'bob');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  writeFileSync(join(dir, 'tmp', 'old'), 'x');
  aged(join(dir, 'tmp', 'old'), 2 * 24 * 3600 * 1000);
  writeFileSync(join(dir, 'tmp', 'new'), 'x');
  ensureMaildir(dir, false);
  for (const sub of ['cur', 'new', 'tmp']) assert.ok(existsSync(join(dir, sub)), sub);
  await waitUntil(() => !existsSync(join(dir, 'tmp', 'old')), 'the sweep of tmp/old');
  assert.deepEqual(readdirSync(join(dir, 'tmp')), ['new']);
});
