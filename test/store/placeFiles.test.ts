import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { placeBatch } from '../../src/store/placeFiles.mjs';
import { tmpDir } from '../helpers/tmp.ts';

// A folder on another filesystem than the test's tmp dir (/dev/shm is a tmpfs on Linux).
function otherFilesystem(t: { after(fn: () => void): void }, than: string): string | null {
  if (!existsSync('/dev/shm')) return null;
  const dir = mkdtempSync('/dev/shm/mailyard-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return statSync(dir).dev === statSync(than).dev ? null : dir;
}

test('a move or link across filesystems is a durable copy (a move then removes its source)', (t) => {
  const here = tmpDir(t);
  const there = otherFilesystem(t, here);
  if (!there) return t.skip('no second filesystem');
  const moved = join(there, 'moved');
  const linked = join(there, 'linked');
  writeFileSync(moved, 'moved bytes');
  writeFileSync(linked, 'linked bytes');
  const failed = placeBatch(
    [[{ from: moved, to: join(here, 'moved'), move: true }], [{ from: linked, to: join(here, 'linked'), move: false }]],
    [here],
  );
  assert.deepEqual(failed, [null, null]);
  assert.equal(readFileSync(join(here, 'moved'), 'utf8'), 'moved bytes');
  assert.ok(!existsSync(moved), 'a move leaves no source');
  assert.equal(readFileSync(join(here, 'linked'), 'utf8'), 'linked bytes');
  assert.ok(existsSync(linked), 'a link keeps its source');
});
