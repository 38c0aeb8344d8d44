// A migrated database in a throwaway folder, with repositories and a bus; reopenDb opens the same file again
// (state that must survive a restart).
import { join } from 'node:path';
import { closeDatabase, type Db, migrate, openDatabase } from '../../src/db/client.ts';
import { createEventBus } from '../../src/events/bus.ts';
import { createRepos } from '../../src/repos/index.ts';
import { tmpDir } from './tmp.ts';

type Context = { after(fn: () => unknown): void };

/** Opens (and migrates) the database file at `path`; closed after the test (closing twice is harmless). */
export function reopenDb(t: Context, path: string) {
  const db: Db = openDatabase({ path, walEnabled: true, busyTimeoutMs: 5000 });
  t.after(() => closeDatabase(db));
  migrate(db);
  const bus = createEventBus((_topic, err) => {
    throw err;
  });
  const repos = createRepos(db, bus);
  repos.domains.ensureTemplate();
  return { db, bus, repos, path };
}

export function testDb(t: Context) {
  return reopenDb(t, join(tmpDir(t), 'test.db'));
}

export const nextTick = () => new Promise((r) => setImmediate(r));
