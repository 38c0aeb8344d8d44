import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import module from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// Loads the GraphQL schema (our drizzle code and Pothos's drizzle plugin) in a fresh process with the CLI's
// drizzle hook, and records, through a hook registered after it, where every drizzle-orm import resolved.
const PROBE = `
import module from 'node:module';
await import('./src/cli/drizzleAsCommonJs.mjs');
const seen = [];
module.registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    if (/^drizzle-orm(\\/|$)/.test(specifier)) seen.push({ specifier, from: context.parentURL, url: r.url, format: r.format });
    return r;
  },
});
await import('./src/graphql/schema.ts');
await import('./src/db/client.ts');
console.log(JSON.stringify(seen));
`;

test('drizzle-orm is loaded from its CommonJS build by every importer (one copy, no per-file package scope reads)', (t) => {
  if (!('registerHooks' in module)) {
    // Not unavailable(): a runtime feature, not a missing tool; CI runs Node 20 (skips) and Node 24 (runs).
    t.skip(`Node ${process.versions.node} has no module.registerHooks (and no slow package scope reads)`);
    return;
  }
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    specifier: string;
    from: string;
    url: string;
    format: string;
  }[];
  assert.ok(seen.length > 5, `drizzle imports seen: ${seen.length}`);
  assert.ok(
    seen.some((s) => s.from.includes('/@pothos/plugin-drizzle/')),
    "Pothos's plugin imports drizzle-orm through the hook too",
  );
  assert.ok(
    seen.some((s) => s.from.includes('/schema/db/')),
    'our schema imports drizzle-orm through the hook',
  );
  for (const s of seen) {
    assert.match(s.url, /\.cjs$/, `${s.specifier} from ${s.from}`);
    assert.equal(s.format, 'commonjs', `${s.specifier} from ${s.from}`);
  }
});
