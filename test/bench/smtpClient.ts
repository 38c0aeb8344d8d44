/**
 * `node --import tsx test/bench/smtpClient.ts`: the outbound SMTP client (src/queue/smtpClient.ts) against
 * Postfix's smtp-sink on loopback: MESSAGES messages of SIZE bytes (a file each, bare-LF lines, as the queue would
 * send them from its spool), over 1 connection and over CONNECTIONS connections (each reused: RSET between
 * messages), one recipient each. Prints messages/s for each, and the DATA transform alone (messages/s). For
 * reference, the same runs with Postfix's own test client, smtp-source (-d: connections reused; C, the message made
 * in memory, no file reads), when it is installed.
 * Options (env): MESSAGES (5000), SIZE (10240), CONNECTIONS (10), BODY=file|buffer (file).
 * Needs smtp-sink (apt-get install postfix).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeData } from '../../src/queue/dataEncoder.ts';
import { openSmtpConnection, type SmtpConnection } from '../../src/queue/smtpClient.ts';
import { startSmtpSink } from '../helpers/smtpSink.ts';
import { which } from '../helpers/tools.ts';

const run = promisify(execFile);

const MESSAGES = Number(process.env.MESSAGES ?? 5000);
const SIZE = Number(process.env.SIZE ?? 10240);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const AS_FILE = (process.env.BODY ?? 'file') === 'file';

const bin = which('smtp-sink');
if (!bin) {
  console.error('smtp-sink is not installed (apt-get install postfix)');
  process.exit(1);
}

function message(i: number): Buffer {
  let s = `From: bench@example.com\nTo: sink@example.net\nSubject: message ${i}\nMessage-ID: <${i}@bench>\n\n`;
  const line = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmnopqrstuvwxy\n';
  while (s.length + line.length <= SIZE) s += line;
  s += '.'.repeat(Math.max(0, SIZE - s.length - 1));
  return Buffer.from(`${s}\n`);
}

const cleanups: (() => unknown)[] = [];
const dir = mkdtempSync(join(tmpdir(), 'mailyard-bench-client-'));
cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
const bodies: (string | Buffer)[] = [];
for (let i = 0; i < Math.min(MESSAGES, 500); i++) {
  const m = message(i);
  if (AS_FILE) {
    const f = join(dir, `${i}.eml`);
    writeFileSync(f, m);
    bodies.push(f);
  } else bodies.push(m);
}

// The transform alone.
{
  const m = message(0);
  const n = 50_000;
  for (let i = 0; i < 2000; i++) encodeData(m);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) encodeData(m);
  const s = (performance.now() - t0) / 1000;
  console.log(`DATA transform, ${SIZE} B bare-LF message: ${Math.round(n / s)} msg/s`);
}

const scope = { after: (f: () => unknown) => cleanups.push(f) };
try {
  for (const conns of [1, CONNECTIONS]) {
    const sink = await startSmtpSink(scope, bin);
    const open = () =>
      openSmtpConnection({
        host: '127.0.0.1',
        port: sink.port,
        mxName: 'sink.test',
        localName: 'bench.mailyard.test',
        connectTimeoutMs: 5000,
        commandTimeoutMs: 30_000,
        tls: 'none',
      });
    let next = 0;
    const worker = async (c: SmtpConnection) => {
      while (next < MESSAGES) {
        const i = next++;
        if (c.transactions > 0) await c.reset();
        const r = await c.send(
          { from: 'bench@example.com', to: [{ address: `rcpt${i}@example.net` }], size: SIZE },
          bodies[i % bodies.length]!,
        );
        if (r.data?.code !== 250) throw new Error(`message ${i} not accepted: ${JSON.stringify(r)}`);
      }
      await c.quit();
    };
    const t0 = performance.now();
    const connections = await Promise.all(Array.from({ length: conns }, open));
    await Promise.all(connections.map(worker));
    const s = (performance.now() - t0) / 1000;
    console.log(
      `${MESSAGES} x ${SIZE} B over ${conns} connection(s) (${AS_FILE ? 'files' : 'buffers'}): ${Math.round(MESSAGES / s)} msg/s (${s.toFixed(2)} s)`,
    );
    await sink.stop();
  }
  const source = which('smtp-source');
  if (source)
    for (const conns of [1, CONNECTIONS]) {
      const sink = await startSmtpSink(scope, bin);
      const t0 = performance.now();
      await run(source, [
        '-d',
        '-s',
        String(conns),
        '-m',
        String(MESSAGES),
        '-l',
        String(SIZE),
        '-f',
        'bench@example.com',
        '-t',
        'sink@example.net',
        `127.0.0.1:${sink.port}`,
      ]);
      const s = (performance.now() - t0) / 1000;
      console.log(
        `  reference: smtp-source over ${conns} connection(s): ${Math.round(MESSAGES / s)} msg/s (${s.toFixed(2)} s)`,
      );
      await sink.stop();
    }
} finally {
  for (const f of cleanups.reverse()) await f();
}
