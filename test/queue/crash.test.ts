// Crash safety of the outbound queue (SIGKILL while 1,000 queued messages are being delivered to Postfix's
// smtp-sink). What is proved: after restarts every message reaches the sink; a recipient whose delivery Mailyard
// had recorded (row `delivered`) before a kill is never sent again; only deliveries in flight at the kill (row
// `sending`: the remote may have answered 250 a moment before the kill) may arrive twice (at-least-once).
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { startDnsmasq } from '../helpers/dnsmasq.ts';
import { spawnCli, testConfigFile, waitForReady } from '../helpers/server.ts';
import { ehlo, message } from '../helpers/smtp.ts';
import { startSmtpSink } from '../helpers/smtpSink.ts';
import { tmpDir } from '../helpers/tmp.ts';
import { needTool } from '../helpers/tools.ts';
import { waitUntil } from '../helpers/wait.ts';

const MESSAGES = 1000;

test('SIGKILL twice while 1,000 queued messages are delivered: all arrive, none recorded as delivered is sent again', {
  timeout: 300_000,
}, async (t) => {
  const bin = needTool(t, 'smtp-sink', 'postfix');
  if (!bin) return;
  // smtp-sink dumps each transaction it accepts into its own file (-d), envelope included (X-Rcpt-Args).
  const dumps = tmpDir(t);
  chmodSync(dumps, 0o777); // it runs as nobody
  const sinkArgs = ['-d', join(dumps, '%H%M%S.')];
  const dumped = () => readdirSync(dumps);
  const sink = await startSmtpSink(t, bin, sinkArgs);
  await sink.stop(); // down while the queue fills: every message waits in the queue
  const dns = await startDnsmasq(t, [
    'local=/#/',
    'mx-host=sink.example,mx.sink.example,10',
    'host-record=mx.sink.example,127.0.0.1',
  ]);
  if (!dns) return;
  const dir = tmpDir(t);
  const { file, ports } = await testConfigFile(dir, {
    dns: { servers: [dns.server], timeout: 2 },
    smtp: { outbound_port: sink.port },
    queue: { retry_schedule: [1], connect_timeout: 2, command_timeout: 10, mta_sts: false },
  });
  const api = `http://127.0.0.1:${ports.api}`;
  const start = async () => {
    const s = spawnCli(['run', '--config', file], {}, t);
    await waitForReady(api, 60_000, { spawned: s, logFile: join(dir, 'mailyard.log') });
    return s;
  };
  let server = await start();
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(res.ok, `POST ${path}: ${res.status} ${await res.text()}`);
  };
  await post('/api/domains', { name: 'example.com' });
  await post('/api/aliases', { address: 'fwd@example.com', destinations: ['dest@sink.example'] });

  // Fill the queue through the MX: 10 sessions of 100 messages, each a forwarded copy for the sink.
  await Promise.all(
    Array.from({ length: 10 }, async (_, s) => {
      const c = await ehlo(ports.relay);
      for (let i = 0; i < MESSAGES / 10; i++) {
        const r = await c.send('sender@example.com', ['fwd@example.com'], message(`crash-${s * 100 + i}`));
        assert.equal(r.data?.code, 250);
      }
      c.close();
    }),
  );

  const db = () => new Database(`${dir}/data/mailserver.db`, { readonly: true });
  const rows = () => {
    const d = db();
    try {
      return d.prepare('select queue_id, status from outbound_queue').all() as { queue_id: string; status: string }[];
    } finally {
      d.close();
    }
  };
  assert.equal(rows().length, MESSAGES);

  // The sink comes up: delivery starts; kill Mailyard twice along the way.
  await startSmtpSink(t, bin, sinkArgs, 1024, sink.port);
  const mustBeOnce = new Set<string>();
  let inFlight = 0;
  for (const at of [MESSAGES * 0.2, MESSAGES * 0.6]) {
    await waitUntil(() => dumped().length >= at, `${at} messages at the sink`, { timeoutMs: 120_000, intervalMs: 2 });
    server.child.kill('SIGKILL');
    await server.exited;
    const now = rows();
    for (const r of now) if (r.status === 'delivered') mustBeOnce.add(r.queue_id);
    inFlight += now.filter((r) => r.status === 'sending').length;
    server = await start();
  }
  await waitUntil(() => rows().every((r) => r.status === 'delivered'), 'every row delivered', {
    timeoutMs: 120_000,
    detail: () => {
      const by: Record<string, number> = {};
      for (const r of rows()) by[r.status] = (by[r.status] ?? 0) + 1;
      return JSON.stringify(by);
    },
  });

  // Count at the sink by our queue id (our Received line: "with ESMTP id <queue id>").
  const seen = new Map<string, number>();
  for (const f of dumped()) {
    const text = readFileSync(join(dumps, f), 'latin1');
    const rcpts = [...text.matchAll(/^X-Rcpt-Args: <([^>]*)>/gm)].map((m) => m[1]);
    const id = /\bid ([0-9A-Z]{10,})\b/.exec(text)?.[1];
    assert.ok(id, 'every dumped message carries its queue id');
    assert.deepEqual(rcpts, ['dest@sink.example']);
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const ids = new Set(rows().map((r) => r.queue_id));
  assert.equal(ids.size, MESSAGES);
  for (const id of ids) assert.ok((seen.get(id) ?? 0) >= 1, `message ${id} never reached the sink`);
  for (const id of mustBeOnce)
    assert.equal(seen.get(id), 1, `message ${id} was recorded as delivered, then sent again`);
  const twice = [...seen.values()].filter((n) => n > 1).length;
  assert.ok(twice <= inFlight, `${twice} duplicates, but only ${inFlight} deliveries were in flight at the kills`);
  t.diagnostic(
    `kills: 2; recorded delivered before a kill: ${mustBeOnce.size}; in flight at the kills: ${inFlight}; arrived twice: ${twice}`,
  );
  server.child.kill('SIGTERM');
  await server.exited;
});
