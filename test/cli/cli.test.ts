import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { canConnect } from '../helpers/ports.ts';
import { spawnCli, testConfigFile } from '../helpers/server.ts';
import { tmpDir } from '../helpers/tmp.ts';

function io(cwd = process.cwd()): CliIo & { stdout: string; stderr: string } {
  const o = { stdout: '', stderr: '', env: {}, cwd } as CliIo & { stdout: string; stderr: string };
  o.out = (s) => {
    o.stdout += s;
  };
  o.err = (s) => {
    o.stderr += s;
  };
  return o;
}

test('help, --help on every command, version', async () => {
  const a = io();
  assert.equal(await main(['help'], a), 0);
  for (const c of ['run', 'migrate', 'config', 'version', 'help']) assert.match(a.stdout, new RegExp(`^  ${c} `, 'm'));
  for (const c of ['run', 'migrate', 'config', 'version', 'help']) {
    const b = io();
    assert.equal(await main([c, '--help'], b), 0, c);
    assert.match(b.stdout, /^usage: mailyard /);
  }
  const v = io();
  assert.equal(await main(['version'], v), 0);
  assert.match(v.stdout, /^mailyard \d+\.\d+\.\d+ \(node v\d+/);
});

test('an unknown command, flag or extra argument prints usage and exits 2', async () => {
  for (const argv of [['frobnicate'], ['run', '--frob'], ['migrate', 'extra'], ['config', 'sideways'], []]) {
    const o = io();
    assert.equal(await main(argv, o), 2, argv.join(' '));
    assert.match(o.stderr, /usage: mailyard/);
  }
});

test('config example prints the generated example; config check validates a file', async (t) => {
  const e = io();
  assert.equal(await main(['config', 'example'], e), 0);
  assert.equal(e.stdout, readFileSync(new URL('../../examples/mailyard.yaml', import.meta.url), 'utf8'));
  const dir = tmpDir(t);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'api:\n  port: "http"\n');
  const c = io(dir);
  assert.equal(await main(['config', 'check', '--config', bad], c), 78);
  assert.match(c.stderr, new RegExp(`invalid configuration \\(${bad.replace(/[.]/g, '\\.')}\\)`));
  assert.match(c.stderr, /key "api\.port": expected a port number/);
});

test('mailyard migrate applies migrations once and creates _default once', async (t) => {
  const dir = tmpDir(t);
  const { file } = await testConfigFile(dir);
  const a = io(dir);
  assert.equal(await main(['migrate', '--config', file], a), 0);
  assert.match(a.stdout, /: [1-9]\d* migration\(s\) applied; _default template created/);
  const b = io(dir);
  assert.equal(await main(['migrate', '--config', file], b), 0);
  assert.match(b.stdout, /: 0 migration\(s\) applied; _default template already present/);
});

test('a bad config exits non-zero before binding anything', async (t) => {
  const dir = tmpDir(t);
  const { file, ports } = await testConfigFile(dir, { imap: { idle_timeout: 'forever' } });
  const p = spawnCli(['run', '--config', file], {}, t);
  const { code } = await p.exited;
  assert.equal(code, 78);
  assert.match(p.stderr(), /key "imap\.idle_timeout": expected a number of seconds/);
  assert.ok(p.stderr().includes(file));
  for (const port of Object.values(ports)) assert.equal(await canConnect(port), false);
});
