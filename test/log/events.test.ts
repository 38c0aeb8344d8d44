// The operational log lines the guide's monitoring section greps for (`journalctl | grep "authentication failed"`,
// `grep "rate_limit_exceeded"`): emitted with these exact messages, details in fields. Real server, raw sockets.
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { startMailyard } from '../../src/server/app.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { testConfigFile } from '../helpers/server.ts';
import { tmpDir } from '../helpers/tmp.ts';

/** A server whose log lines (JSON objects) are collected in `lines`. */
async function loggedServer(t: { after(fn: () => unknown): void }, over: Record<string, unknown> = {}) {
  const dir = tmpDir(t);
  const { file, ports } = await testConfigFile(dir, over);
  const { config } = loadConfig({ file, env: {} });
  config.server.shutdown_timeout = 0.2;
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  const app = await startMailyard(config, { log: pino({ level: 'info' }, sink) });
  t.after(() => app.stop());
  await app.services.domains.create('test', 'example.com', true);
  await app.services.accounts.createUser('test', 'bob@example.com', TEST_PASSWORD);
  return { ports, lines };
}

/** Opens a socket, sends each line after the previous answer contains `until`, resolves with all it read. */
function converse(port: number, steps: { send?: string; until: RegExp }[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    let i = 0;
    s.on('data', (d) => {
      got += d.toString('latin1');
      while (i < steps.length && steps[i]!.until.test(got)) {
        i++;
        if (i === steps.length) {
          s.destroy();
          return resolve(got);
        }
        s.write(`${steps[i]!.send}\r\n`);
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(got));
  });
}

test('a failed IMAP login logs "authentication failed" with the protocol, user name and reason', async (t) => {
  const { ports, lines } = await loggedServer(t);
  const answer = await converse(ports.imap, [
    { until: /^\* OK/m },
    { send: 'a LOGIN bob@example.com wrong-password', until: /^a NO/m },
  ]);
  assert.match(answer, /^a NO \[AUTHENTICATIONFAILED\]/m);
  const hit = lines.find((l) => l.msg === 'authentication failed');
  assert.ok(hit, `no "authentication failed" line in ${JSON.stringify(lines.map((l) => l.msg))}`);
  assert.equal(hit.proto, 'imap');
  assert.equal(hit.username, 'bob@example.com');
  assert.equal(hit.reason, 'invalid credentials');
});

test('an MX connection over smtp.max_connections_per_ip logs "rate_limit_exceeded" with the address', async (t) => {
  const { ports, lines } = await loggedServer(t, { smtp: { max_connections_per_ip: 1 } });
  const first = net.connect(ports.relay, '127.0.0.1');
  t.after(() => first.destroy());
  await new Promise((r) => first.once('data', r));
  const second = await converse(ports.relay, [{ until: /^421 /m }]);
  assert.match(second, /^421 4\.7\.0 /m);
  const hit = lines.find((l) => l.msg === 'rate_limit_exceeded');
  assert.ok(hit, `no "rate_limit_exceeded" line in ${JSON.stringify(lines.map((l) => l.msg))}`);
  assert.equal(hit.ip, '127.0.0.1');
  assert.equal(hit.connections, 1);
});

test('a client hanging up in the middle of DATA is an info line, not an error (issue #21)', async (t) => {
  const { ports, lines } = await loggedServer(t);
  const s = net.connect(ports.relay, '127.0.0.1');
  let got = '';
  const until = (re: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => (re.test(got) ? resolve() : s.once('data', check));
      check();
    });
  s.on('data', (d) => {
    got += d.toString('latin1');
  });
  await until(/^220 /m);
  for (const [cmd, reply] of [
    ['EHLO client.example', /^250 /m],
    ['MAIL FROM:<a@remote.example>', /^250 2\.1\.0/m],
    ['RCPT TO:<bob@example.com>', /^250 2\.1\.5/m],
    ['DATA', /^354 /m],
  ] as const) {
    got = '';
    s.write(`${cmd}\r\n`);
    await until(reply);
  }
  s.write('Subject: half\r\n\r\nthe first half of a message');
  s.destroy();
  const deadline = Date.now() + 10_000;
  while (!lines.some((l) => l.msg === 'client disconnected during DATA') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const hit = lines.find((l) => l.msg === 'client disconnected during DATA');
  assert.ok(hit, `no line in ${JSON.stringify(lines.map((l) => l.msg))}`);
  assert.equal(hit.level, 30, 'info');
  assert.deepEqual(
    lines.filter((l) => (l.level as number) >= 50).map((l) => l.msg),
    [],
    'nothing at error level',
  );
});
