import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { exampleConfig } from '../../src/config/example.ts';
import { loadConfig } from '../../src/config/load.ts';
import { configSchema } from '../../src/config/schema.ts';
import { describeSchema, leaves } from '../../src/config/walk.ts';
import { tmpDir } from '../helpers/tmp.ts';

test('examples/mailyard.yaml is exactly the generated example (regenerate with npm run config:example)', () => {
  const committed = readFileSync(new URL('../../examples/mailyard.yaml', import.meta.url), 'utf8');
  assert.equal(committed, exampleConfig());
});

test('the example documents every key and loads without warnings to the schema defaults', (t) => {
  const text = exampleConfig();
  for (const leaf of leaves(describeSchema(configSchema))) {
    const key = leaf.path.at(-1)!;
    assert.match(text, new RegExp(`^\\s*#? ?${key}:`, 'm'), `example lacks ${leaf.path.join('.')}`);
    assert.ok(leaf.description.length > 0, `${leaf.path.join('.')} has no description`);
  }
  const dir = tmpDir(t);
  const f = join(dir, 'example.yaml');
  writeFileSync(f, text);
  const { config, warnings } = loadConfig({ file: f, env: {}, cwd: dir });
  assert.deepEqual(warnings, []);
  assert.equal(config.smtp.relay_port, 25);
  assert.equal(config.server.shutdown_timeout, 30);
  assert.equal(typeof parse(text), 'object');
});
