/**
 * `npm run bench:outbound`: outbound relaying, Mailyard against a real Postfix, measured the same way in the same
 * run. Postfix's smtp-source submits MESSAGES messages of SIZE bytes (20 sessions in all, connections reused, spread
 * over DOMAINS recipient domains) to the server's port 25 from an address it relays for (Mailyard's
 * smtp.relay_networks, Postfix's mynetworks); each server queues them (durably, before its 250) and delivers them
 * to Postfix's smtp-sink, finding it through MX lookups on a dnsmasq on loopback. The figure is the time from the
 * first message submitted until the sink has received them all, as msg/s; also how long submission alone took,
 * Mailyard's peak RSS and CPU time per message. Postfix resolves through the same dnsmasq: it runs in a mount
 * namespace of its own whose /etc/resolv.conf names it (Postfix has no resolver setting). Both use their default
 * concurrency (Mailyard: queue.destination_concurrency 20; Postfix: default_destination_concurrency_limit 20),
 * both try STARTTLS (smtp-sink offers none); Mailyard also looks up MTA-STS policies (its default), Postfix does not.
 * Each server runs ROUNDS times, alternating, each with a fresh sink; the summary gives medians.
 * Options (env): MESSAGES (5000), SIZE (10240), DOMAINS (10), ROUNDS (3), PEER=0 (Mailyard only), KEEP=1.
 * Needs root (mount namespace), postfix (smtp-source, smtp-sink) and dnsmasq.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { canConnect, freePorts } from '../helpers/ports.ts';
import { BIN, waitForReady } from '../helpers/server.ts';
import { startSmtpSink } from '../helpers/smtpSink.ts';
import { which } from '../helpers/tools.ts';
import { writePostfixInstance } from './postfix.ts';

const MESSAGES = Number(process.env.MESSAGES ?? 5000);
const SIZE = Number(process.env.SIZE ?? 10240);
const DOMAINS = Number(process.env.DOMAINS ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SESSIONS = 20;
const DNS_IP = '127.0.5.3';
const base = mkdtempSync(join(tmpdir(), 'mailyard-bench-out-'));
chmodSync(base, 0o755); // smtp-sink (as nobody) and Postfix write below it
const children: ChildProcess[] = [];
let postfixPid: number | undefined;
const sinkBin = which('smtp-sink');
if (!sinkBin || !which('smtp-source') || !which('dnsmasq')) {
  console.error('needs smtp-sink and smtp-source (apt-get install postfix) and dnsmasq (dnsmasq-base)');
  process.exit(1);
}

const cleanups: (() => unknown)[] = [];
function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (postfixPid) {
    try {
      process.kill(postfixPid, 'SIGTERM');
    } catch {}
  }
  for (const f of cleanups) {
    try {
      f();
    } catch {}
  }
  if (!process.env.KEEP) rmSync(base, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
const scope = { after: (f: () => unknown) => cleanups.push(f) };

const domains = Array.from({ length: DOMAINS }, (_, i) => `d${i}.sink.test`);

/** dnsmasq on DNS_IP:53 (Postfix's resolver reads port 53 from resolv.conf): the MX records of the sink domains. */
async function startDns(): Promise<void> {
  const conf = join(base, 'dnsmasq.conf');
  writeFileSync(
    conf,
    [
      'port=53',
      `listen-address=${DNS_IP}`,
      'bind-interfaces',
      'no-resolv',
      'no-hosts',
      'user=root',
      'local=/#/',
      'local-ttl=3600',
      'neg-ttl=3600',
      'host-record=mx.sink.test,127.0.0.1',
      ...domains.map((d) => `mx-host=${d},mx.sink.test,10`),
      '',
    ].join('\n'),
  );
  const dns = spawn('dnsmasq', ['-k', '-C', conf], { stdio: 'ignore' });
  children.push(dns);
  for (let i = 0; i < 100 && !(await canConnect(53, DNS_IP)); i++) await new Promise((r) => setTimeout(r, 50));
}

/** 20 sessions in all, the messages spread over the domains (one smtp-source per domain). */
async function submit(port: number): Promise<number> {
  const t0 = performance.now();
  const per = Math.ceil(MESSAGES / DOMAINS);
  const sessions = Math.max(1, Math.floor(SESSIONS / DOMAINS));
  await Promise.all(
    domains.map((d, i) =>
      promisify(execFile)('smtp-source', [
        '-d',
        '-s',
        String(sessions),
        '-m',
        String(Math.min(per, MESSAGES - per * i)),
        '-l',
        String(SIZE),
        '-f',
        'sender@bench.test',
        '-t',
        `rcpt@${d}`,
        `127.0.0.1:${port}`,
      ]),
    ),
  );
  return performance.now() - t0;
}

/**
 * A sink that writes each transaction it accepts to a file of its own (-d; smtp-sink's -c counters are not flushed
 * to a pipe as they change), so what it has received is counted on disk.
 */
async function startSink(name: string) {
  const dir = join(base, `sink-${name}`);
  mkdirSync(dir);
  chmodSync(dir, 0o777); // smtp-sink runs as nobody
  const sink = await startSmtpSink(scope, sinkBin!, ['-d', join(dir, '%H%M%S.')]);
  return { ...sink, received: () => readdirSync(dir).length };
}

async function untilSunk(sink: { received(): number }, t0: number): Promise<number> {
  const deadline = Date.now() + 600_000;
  while (sink.received() < MESSAGES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return performance.now() - t0;
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function benchMailyard(round: number) {
  const dir = join(base, `mailyard-${round}`);
  mkdirSync(dir);
  const sink = await startSink(`mailyard-${round}`);
  const [relay, api] = await freePorts(2);
  const config = {
    server: { hostname: 'bench.mailyard.test', bind_address: '127.0.0.1' },
    database: { path: join(dir, 'data/mailserver.db') },
    logger: { level: 'warn', output_path: join(dir, 'mailyard.log') },
    smtp: {
      relay_port: relay,
      submission_port: 0,
      smtps_port: 0,
      outbound_port: sink.port,
      max_connections_per_ip: SESSIONS * 2,
      relay_networks: ['127.0.0.0/8'],
    },
    imap: { port: 0, imaps_port: 0 },
    api: { port: api, admin_token: 'bench-token' },
    dns: { servers: [`${DNS_IP}:53`] },
  };
  writeFileSync(join(dir, 'mailyard.yaml'), stringify(config));
  const child = spawn(process.execPath, [BIN, 'run', '--config', join(dir, 'mailyard.yaml')], { stdio: 'ignore' });
  children.push(child);
  await waitForReady(`http://127.0.0.1:${api}`);
  const cpu0 = cpuMs(child.pid!);
  const t0 = performance.now();
  const submitMs = await submit(relay!);
  const ms = await untilSunk(sink, t0);
  const cpu = cpuMs(child.pid!) - cpu0;
  const rssKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]);
  const sunk = sink.received();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  await sink.stop();
  return { ms, submitMs, sunk, rssMb: rssKb / 1024, cpu };
}

async function benchPostfix(round: number) {
  const dir = join(base, `postfix-${round}`);
  mkdirSync(dir);
  execFileSync('chmod', ['755', base, dir]);
  const sink = await startSink(`postfix-${round}`);
  const [port] = await freePorts(1);
  writePostfixInstance(
    dir,
    port!,
    `smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
smtp_tcp_port = ${sink.port}
smtp_tls_security_level = may
`,
  );
  const resolv = join(dir, 'resolv.conf');
  writeFileSync(resolv, `nameserver ${DNS_IP}\noptions timeout:2\n`);
  // Its own mount namespace: /etc/resolv.conf names the bench's DNS server for Postfix's processes only.
  execFileSync(
    'unshare',
    ['-m', 'sh', '-c', `mount --bind ${resolv} /etc/resolv.conf && postfix -c ${join(dir, 'etc')} start`],
    { stdio: 'ignore' },
  );
  postfixPid = Number(readFileSync(join(dir, 'queue/pid/master.pid'), 'utf8').trim());
  for (let i = 0; i < 100 && !(await canConnect(port!)); i++) await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  const submitMs = await submit(port!);
  const ms = await untilSunk(sink, t0);
  const sunk = sink.received();
  process.kill(postfixPid, 'SIGTERM');
  postfixPid = undefined;
  await sink.stop();
  return { ms, submitMs, sunk };
}

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
await startDns();
console.log(
  `smtp-source: ${MESSAGES} messages of ${SIZE} bytes over ${SESSIONS} sessions to ${DOMAINS} domains, relayed to smtp-sink through MX lookups (dnsmasq); ${ROUNDS} round(s), the servers alternating`,
);
const mine: Awaited<ReturnType<typeof benchMailyard>>[] = [];
const peers: Awaited<ReturnType<typeof benchPostfix>>[] = [];
const rate = (r: { ms: number }) => (MESSAGES / r.ms) * 1000;
for (let round = 1; round <= ROUNDS; round++) {
  const my = await benchMailyard(round);
  mine.push(my);
  console.log(
    `round ${round} mailyard: ${rate(my).toFixed(0)} msg/s relayed (${(my.ms / 1000).toFixed(2)} s until the sink had ${my.sunk}; submission took ${(my.submitMs / 1000).toFixed(2)} s), peak RSS ${my.rssMb.toFixed(0)} MB, CPU ${(my.cpu / MESSAGES).toFixed(2)} ms/msg`,
  );
  if (process.env.PEER === '0') continue;
  const pf = await benchPostfix(round);
  peers.push(pf);
  console.log(
    `round ${round} postfix:  ${rate(pf).toFixed(0)} msg/s relayed (${(pf.ms / 1000).toFixed(2)} s until the sink had ${pf.sunk}; submission took ${(pf.submitMs / 1000).toFixed(2)} s); ratio ${(rate(my) / rate(pf)).toFixed(2)}x`,
  );
}
const myRates = mine.map(rate);
console.log(
  `mailyard: ${median(myRates).toFixed(0)} msg/s (median; ${Math.min(...myRates).toFixed(0)}-${Math.max(...myRates).toFixed(0)}), peak RSS ${Math.max(...mine.map((m) => m.rssMb)).toFixed(0)} MB`,
);
if (peers.length) {
  const pfRates = peers.map(rate);
  console.log(
    `postfix:  ${median(pfRates).toFixed(0)} msg/s (median; ${Math.min(...pfRates).toFixed(0)}-${Math.max(...pfRates).toFixed(0)})`,
  );
  console.log(
    `ratio mailyard/postfix: ${(median(myRates) / median(pfRates)).toFixed(2)}x of the medians; per round ${myRates.map((r, i) => (r / pfRates[i]!).toFixed(2)).join(' ')} (target >= 1.0x)`,
  );
}
if (mine.some((m) => m.sunk < MESSAGES) || peers.some((p) => p.sunk < MESSAGES)) {
  console.error('not every message reached the sink: the figures above are not valid');
  process.exitCode = 1;
}
process.exit();
