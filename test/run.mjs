#!/usr/bin/env node
// `npm test`: runs every test/**/*.test.ts with node:test (TypeScript through tsx), with drizzle-orm loaded the way
// the CLI loads it (src/cli/drizzleAsCommonJs.mjs). Extra args are passed on,
// e.g. `npm test -- --test-name-pattern=health`; a path argument ending in .test.ts narrows the files.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
const args = process.argv.slice(2);
const picked = args.filter((a) => a.endsWith('.test.ts'));
const files = picked.length
  ? picked
  : walk(join(root, 'test'))
      .map((f) => relative(root, f))
      .sort();
const rest = args.filter((a) => !a.endsWith('.test.ts'));
const res = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--import',
    './src/cli/drizzleAsCommonJs.mjs',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=120000',
    ...rest,
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(res.status ?? 1);
