#!/usr/bin/env node
// CI check: the Drizzle schema (schema/db) and the committed migrations (drizzle/) agree, i.e. `drizzle-kit
// generate` has nothing new to write. Runs generate against a scratch copy of drizzle/, so the tree is untouched.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'mailyard-migrations-'));
try {
  cpSync(join(root, 'drizzle'), scratch, { recursive: true });
  const before = readdirSync(scratch).sort();
  const res = spawnSync(
    join(root, 'node_modules/.bin/drizzle-kit'),
    ['generate', '--dialect', 'sqlite', '--schema', './schema/db/tables.ts', '--out', scratch],
    { cwd: root, encoding: 'utf8' },
  );
  if (res.status !== 0) {
    process.stderr.write(res.stdout + res.stderr);
    process.exit(1);
  }
  const added = readdirSync(scratch).filter((f) => !before.includes(f));
  if (added.length > 0) {
    process.stderr.write(
      `schema/db and drizzle/ disagree: drizzle-kit generate would add ${added.join(', ')}.\nRun \`npm run db:generate\` and commit the new migration.\n`,
    );
    process.exit(1);
  }
  process.stdout.write('migrations: schema/db and drizzle/ agree\n');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
