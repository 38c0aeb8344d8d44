// src/auth/adminToken.ts: api.admin_token (or MAILYARD_API_ADMIN_TOKEN) wins; otherwise <data>/admin-token
// (0600) is used, and generated and reported once on the very first start.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveAdminToken } from '../../src/auth/adminToken.ts';
import { loadConfig } from '../../src/config/load.ts';
import { tmpDir } from '../helpers/tmp.ts';

const configIn = (dir: string) => loadConfig({ env: {}, cwd: dir }).config;

test('first start: a 256-bit base64url token is generated into <data>/admin-token (0600, folder 0700), once', (t) => {
  const config = configIn(tmpDir(t));
  const path = join(config.dataDir, 'admin-token');
  assert.equal(existsSync(config.dataDir), false);
  const first = resolveAdminToken(config);
  assert.equal(first.generated, true);
  assert.equal(first.source, 'file');
  assert.equal(first.path, path);
  assert.match(first.token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(readFileSync(path, 'utf8'), `${first.token}\n`);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(config.dataDir).mode & 0o077, 0, 'the data folder is private');
  const second = resolveAdminToken(config);
  assert.deepEqual(second, { token: first.token, source: 'file', path, generated: false });
  assert.notEqual(resolveAdminToken(configIn(tmpDir(t))).token, first.token, 'random per installation');
});

test('an existing token file is used as written (surrounding whitespace trimmed); an empty one is replaced', (t) => {
  const config = configIn(tmpDir(t));
  const path = join(config.dataDir, 'admin-token');
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(path, '  my-chosen-token \n\n');
  assert.deepEqual(resolveAdminToken(config), { token: 'my-chosen-token', source: 'file', path, generated: false });
  writeFileSync(path, '\n');
  const r = resolveAdminToken(config);
  assert.equal(r.generated, true);
  assert.equal(readFileSync(path, 'utf8'), `${r.token}\n`);
});

test('the configured token (config file or MAILYARD_API_ADMIN_TOKEN) wins and nothing is written', (t) => {
  const dir = tmpDir(t);
  const file = join(dir, 'mailyard.yaml');
  writeFileSync(file, 'api:\n  admin_token: from-the-config-file-0123456789\n');
  const config = loadConfig({ file, env: {}, cwd: dir }).config;
  assert.deepEqual(resolveAdminToken(config), {
    token: 'from-the-config-file-0123456789',
    source: 'config',
    generated: false,
  });
  // The environment variable, over a config file (not over the embedded default: see test/config/load.test.ts).
  const fromEnv = loadConfig({ file, env: { MAILYARD_API_ADMIN_TOKEN: 'from-the-environment-0123456789' }, cwd: dir });
  assert.equal(resolveAdminToken(fromEnv.config).token, 'from-the-environment-0123456789');
  assert.equal(existsSync(join(config.dataDir, 'admin-token')), false);
});

test('a token file that cannot be read (not ENOENT) is an error, not a silently new token', (t) => {
  const config = configIn(tmpDir(t));
  mkdirSync(join(config.dataDir, 'admin-token'), { recursive: true });
  assert.throws(() => resolveAdminToken(config), /EISDIR/);
});
