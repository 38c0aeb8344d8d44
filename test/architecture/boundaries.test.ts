// The layering rules of src/ (README "Architecture"), checked on the import statements of every source file, type-only
// imports included: only src/repos (and src/db, schema/) touch the tables; no file system work under src/repos;
// protocol front ends reach the mail store only through its service module; no import cycles.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE = /\.(ts|mts|mjs)$/;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : SOURCE.test(e.name) ? [join(dir, e.name)] : [],
  );
}

interface Import {
  spec: string;
  typeOnly: boolean;
}

/** Static imports and re-exports (`import ... from`, `export ... from`, `import '...'`) and dynamic `import('...')`. */
export function importsOf(text: string): Import[] {
  const out: Import[] = [];
  // Comments out of the way (a commented-out import is not an import).
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?([^;'"]*?)\s*from\s*['"]([^'"]+)['"]/gm))
    out.push({ spec: m[4]!, typeOnly: !!m[2] || /^\{\s*type\s/.test(m[3]!) });
  for (const m of code.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) out.push({ spec: m[1]!, typeOnly: false });
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1]!, typeOnly: false });
  // JSDoc type imports of the plain JavaScript modules: `@type {import('./x.ts').T}`.
  for (const m of text.matchAll(/\{import\(['"]([^'"]+)['"]\)/g)) out.push({ spec: m[1]!, typeOnly: true });
  return out;
}

const files = [...walk(join(root, 'src')), ...walk(join(root, 'schema'))];
const rel = (f: string) => relative(root, f);
/** Each file's relative imports, resolved to repository paths (a .d.mts stands for its .mjs). */
const graph = new Map<string, { target: string; typeOnly: boolean }[]>();
const moduleOf = (path: string) => path.replace(/\.d\.mts$/, '.mjs');
for (const f of files) {
  const self = moduleOf(rel(f));
  const edges = importsOf(readFileSync(f, 'utf8'))
    .filter((i) => i.spec.startsWith('.'))
    .map((i) => ({ target: moduleOf(rel(resolve(dirname(f), i.spec))), typeOnly: i.typeOnly }))
    // A plain JavaScript module naming the types of its own declaration file is not a cycle.
    .filter((e) => e.target !== self);
  graph.set(self, [...(graph.get(self) ?? []), ...edges]);
}
const nodeImports = (f: string) => importsOf(readFileSync(join(root, f), 'utf8')).map((i) => i.spec);

test('the import scanner sees static, re-exported, type-only, dynamic and JSDoc imports', () => {
  const found = importsOf(
    [
      "import { a } from './a.ts';",
      "import type { B } from './b.ts';",
      "import { type C, d } from './c.ts';",
      "export { e } from './e.ts';",
      "import './side.ts';",
      "const m = await import('./lazy.ts');",
      "/** @type {import('./doc.ts').T} */",
      "// import { x } from './commented.ts';",
    ].join('\n'),
  );
  assert.deepEqual(
    found.map((i) => `${i.spec}${i.typeOnly ? ' (type)' : ''}`).sort(),
    ['./a.ts', './b.ts (type)', './c.ts (type)', './doc.ts (type)', './e.ts', './lazy.ts', './side.ts'].sort(),
  );
  assert.ok(graph.size > 100, `scanned ${graph.size} files`);
});

test('tables are imported only by src/repos, src/db and schema/ (others use the row types of src/repos/rows.ts)', () => {
  const offenders: string[] = [];
  for (const [file, edges] of graph) {
    if (/^(src\/repos|src\/db|schema)\//.test(file)) continue;
    for (const e of edges) if (e.target.startsWith('schema/db/')) offenders.push(`${file} -> ${e.target}`);
  }
  assert.deepEqual(offenders, []);
});

test("no file system work under src/repos (files are the store's)", () => {
  const offenders = [...graph.keys()]
    .filter((f) => f.startsWith('src/repos/'))
    .filter((f) => nodeImports(f).some((s) => /^(node:)?fs(\/promises)?$/.test(s)))
    .sort();
  assert.deepEqual(offenders, []);
});

test('the database driver and Drizzle are imported only by src/db and src/repos (the SQL dialect stays there)', () => {
  const offenders = [...graph.keys()]
    .filter((f) => f.startsWith('src/') && !/^src\/(db|repos)\//.test(f))
    .filter((f) => nodeImports(f).some((s) => /^(better-sqlite3|drizzle-orm)(\/|$)/.test(s)))
    .sort();
  assert.deepEqual(offenders, []);
});

test('src/imap and src/smtp reach the store only through its service (store/mailStore.ts)', () => {
  const offenders: string[] = [];
  for (const [file, edges] of graph) {
    if (!/^src\/(imap|smtp)\//.test(file)) continue;
    for (const e of edges)
      if (e.target.startsWith('src/store/') && e.target !== 'src/store/mailStore.ts')
        offenders.push(`${file} -> ${e.target}`);
  }
  assert.deepEqual(offenders, []);
});

test('no import cycles in src/, type-only imports included', () => {
  // Tarjan's strongly connected components: every component of more than one file (or a file importing itself)
  // is a cycle.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const { target: w } of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).some((e) => e.target === v)) cycles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  assert.deepEqual(cycles, []);
});
