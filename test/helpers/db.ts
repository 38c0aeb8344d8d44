// A migrated database in a throwaway folder, with repositories and a bus.
import { join } from 'node:path';
import { closeDatabase, type Db, migrate, openDatabase } from '../../src/db/client.ts';
import { createEventBus } from '../../src/events/bus.ts';
import { createRepos } from '../../src/repos/index.ts';
import { tmpDir } from './tmp.ts';

export function testDb(t: { after(fn: () => unknown): void }) {
  const path = join(tmpDir(t), 'test.db');
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

export const nextTick = () => new Promise((r) => setImmediate(r));
