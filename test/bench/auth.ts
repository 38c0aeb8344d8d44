/**
 * `npm run bench:auth`: the CPU cost of message authentication (src/policy/authenticate.ts) per message: a
 * SIZE-byte message signed by dkimpy (rsa-sha256, 2048-bit key, relaxed/relaxed) read from a file, with SPF,
 * DKIM, DMARC and ARC on, DNS answered by dnsmasq on loopback and cached by the project resolver (so what is
 * measured is mailauth's work, not DNS). Series: checkSpf alone; verifyMessage with the transaction's SPF outcome
 * given (the pipeline's case); verifyMessage evaluating SPF again; each sequentially (latency) and CONCURRENCY at
 * a time (throughput). Prints ms/message, messages/s and CPU ms/message.
 * Options (env): MESSAGES (2000), SIZE (10240), CONCURRENCY (20), ROUNDS (3). Profile with
 * `node --cpu-prof --cpu-prof-dir=<dir> --import tsx test/bench/auth.ts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createResolver } from '../../src/dns/resolver.ts';
import { verifyMessage } from '../../src/policy/authenticate.ts';
import { checkSpf } from '../../src/policy/spf.ts';
import { dkimSign, makeKey } from '../helpers/dkimpy.ts';
import { startDnsmasq } from '../helpers/dnsmasq.ts';

const MESSAGES = Number(process.env.MESSAGES ?? 2000);
const SIZE = Number(process.env.SIZE ?? 10_240);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 20);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const HOST = 'mx.mailyard.test';

// startDnsmasq wants a test context: only after() (clean-up) and skip() are used.
const cleanups: (() => void)[] = [];
const ctx = {
  after: (fn: () => void) => cleanups.push(fn),
  skip: (why: string) => {
    throw new Error(why);
  },
} as unknown as TestContext;

const dir = mkdtempSync(join(tmpdir(), 'mailyard-bench-auth-'));
cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
try {
  const key = makeKey(dir, 's1', 'sender.test');
  const dns = await startDnsmasq(
    ctx,
    [
      'local=/test/',
      'txt-record=sender.test,"v=spf1 ip4:192.0.2.0/24 -all"',
      'txt-record=_dmarc.sender.test,"v=DMARC1; p=reject"',
      key.record,
    ],
    3600,
  );
  const resolver = createResolver({ servers: [dns!.server], timeoutMs: 2000 });
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n';
  const body = line.repeat(Math.ceil(SIZE / line.length));
  const headers = [
    'From: Alice <alice@sender.test>',
    'To: bob@mailyard.test',
    'Subject: benchmark',
    'Date: Mon, 30 Nov 2026 10:00:00 +0000',
    'Message-ID: <bench@sender.test>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    '',
  ].join('\r\n');
  const signed = dkimSign(headers + body.slice(0, SIZE - headers.length), key);
  const path = join(dir, 'message.eml');
  writeFileSync(path, signed);

  const tx = { resolver, ip: '192.0.2.10', helo: 'client.example', sender: 'bounce@sender.test', hostname: HOST };
  const spf = await checkSpf({ ...tx, maxLookups: 10 });
  const check = await verifyMessage(path, { ...tx, spf });
  if (check.dkim[0]?.result !== 'pass' || check.dmarc?.result !== 'pass' || spf.result !== 'pass')
    throw new Error(`unexpected results: ${check.authResults}`);

  const series: [string, () => Promise<unknown>][] = [
    ['checkSpf', () => checkSpf({ ...tx, maxLookups: 10 })],
    ['verifyMessage (SPF given)', () => verifyMessage(path, { ...tx, spf })],
    ['verifyMessage (SPF again)', () => verifyMessage(path, tx)],
  ];

  async function measure(run: () => Promise<unknown>, n: number, concurrency: number) {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) await run();
      }),
    );
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    return { ms, perMsg: ms / n, rate: (n * 1000) / ms, cpuPerMsg: (cpu.user + cpu.system) / 1000 / n };
  }

  console.log(
    `message: ${signed.length} bytes; ${MESSAGES} runs per series, ${ROUNDS} rounds (medians); node ${process.version}`,
  );
  for (const [, run] of series) await measure(run, 500, CONCURRENCY); // warm-up (JIT, DNS cache)
  // Rounds alternate the series (this VM's speed drifts over minutes); the medians are printed.
  const got = new Map<string, ReturnType<typeof measure> extends Promise<infer R> ? R[] : never>();
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, run] of series)
      for (const c of [1, CONCURRENCY]) {
        const key = `${name.padEnd(28)} concurrency ${String(c).padStart(2)}`;
        got.set(key, [...(got.get(key) ?? []), await measure(run, MESSAGES, c)]);
      }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [key, rs] of got)
    console.log(
      `${key}: ${median(rs.map((r) => r.perMsg)).toFixed(3)} ms/msg wall, ` +
        `${median(rs.map((r) => r.rate)).toFixed(0)} msg/s, ${median(rs.map((r) => r.cpuPerMsg)).toFixed(3)} ms CPU/msg`,
    );
} finally {
  for (const fn of cleanups.reverse()) fn();
}
