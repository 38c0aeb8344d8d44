/**
 * Real SMTP clients against the MX: swaks (STARTTLS), curl smtp:// (--ssl-reqd) and Postfix's smtp-source
 * (concurrent sessions, pipelined). Each checks the messages it sent are stored and indexed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { needTool } from '../helpers/tools.ts';
import { mailServer } from './setup.ts';

const run = promisify(execFile);

test('swaks with STARTTLS delivers; an unknown recipient gets 550 5.1.1', async (t) => {
  const swaks = needTool(t, 'swaks', 'swaks');
  if (!swaks) return;
  const { ports, inbox } = await mailServer(t);
  const base = [
    '--server',
    '127.0.0.1',
    '--port',
    String(ports.relay),
    '--tls',
    '--from',
    'alice@remote.example',
    '--helo',
    'client.example',
  ];
  const ok = await run(
    swaks,
    [...base, '--to', 'bob@example.com', '--header', 'Subject: from swaks', '--body', 'swaks body'],
    { encoding: 'utf8' },
  );
  assert.match(ok.stdout, /<~ {2}250 2\.0\.0 Ok: queued as \w+/);
  assert.match(ok.stdout, /TLS started/);
  assert.deepEqual(
    inbox('bob@example.com').rows.map((r) => r.subject),
    ['from swaks'],
  );
  const bad = await run(swaks, [...base, '--to', 'nobody@example.com'], { encoding: 'utf8' }).catch(
    (e) => e as { code: number; stdout: string },
  );
  assert.notEqual((bad as { code?: number }).code ?? 0, 0);
  assert.match(
    (bad as { stdout: string }).stdout,
    /<[~*]+ +550 5\.1\.1 <nobody@example\.com>: Recipient address rejected: User unknown/,
  );
});

test('curl smtp:// with --ssl-reqd delivers a file to two recipients', async (t) => {
  const curl = needTool(t, 'curl', 'curl');
  if (!curl) return;
  const { ports, inbox, dir } = await mailServer(t);
  const file = join(dir, 'mail.eml');
  writeFileSync(file, 'From: alice@remote.example\r\nSubject: from curl\r\n\r\nHello from curl.\r\n');
  const r = await run(
    curl,
    [
      '-sS',
      '--url',
      `smtp://127.0.0.1:${ports.relay}`,
      '--ssl-reqd',
      '-k',
      '--mail-from',
      'alice@remote.example',
      '--mail-rcpt',
      'bob@example.com',
      '--mail-rcpt',
      'dave@other.example',
      '-T',
      file,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.stderr, '');
  assert.deepEqual(
    inbox('bob@example.com').rows.map((x) => x.subject),
    ['from curl'],
  );
  assert.deepEqual(
    inbox('dave@other.example').rows.map((x) => x.subject),
    ['from curl'],
  );
});

test("Postfix's smtp-source: 200 messages over 10 concurrent sessions are all stored and indexed", async (t) => {
  const source = needTool(t, 'smtp-source', 'postfix');
  if (!source) return;
  const { ports, inbox, curDir } = await mailServer(t);
  await run(source, [
    '-s',
    '10',
    '-m',
    '200',
    '-l',
    '2048',
    '-f',
    'alice@remote.example',
    '-t',
    'bob@example.com',
    `127.0.0.1:${ports.relay}`,
  ]);
  const { rows, user } = inbox('bob@example.com');
  assert.equal(rows.length, 200);
  assert.deepEqual(
    rows.map((r) => r.uid),
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
  const { readdirSync } = await import('node:fs');
  assert.equal(readdirSync(curDir('bob@example.com')).length, 200);
  assert.equal(
    user.used_bytes,
    rows.reduce((n, r) => n + r.size, 0),
  );
});
