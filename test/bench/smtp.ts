/**
 * `npm run bench:smtp`: Mailyard's MX against a real Postfix delivering to a virtual Maildir, measured the same
 * way in the same run: Postfix's smtp-source sends MESSAGES messages of SIZE bytes over SESSIONS sessions to one
 * mailbox, connections reused (-d). A message counts once it is durable and indexed: for Mailyard that is the 250 reply (sent only
 * after fsync and commit; the script checks the index count afterwards); for Postfix it is the file appearing in
 * the Maildir (its virtual agent fsyncs before renaming into new/). Prints msg/s for both, the ratio,
 * Mailyard's peak RSS and its CPU time per message. Needs root (Postfix, mount), smtp-source and postfix
 * (apt-get install postfix).
 * Each server gets a fresh ext4 filesystem (a sparse image on a loop device, with a journal or not like the
 * filesystem of the temporary directory): on ext4, creating a file costs more while many inodes of its block
 * group were freed in the last minutes (ext4 skips recently deleted inodes; without a journal it looks at each
 * one), so files deleted before the run (an earlier run's cleanup, a test suite) would slow whichever server
 * runs first. Each server still pays for its own deletions (Postfix removes a queue file per message).
 * Each server runs ROUNDS times, alternating (Mailyard, Postfix, Mailyard, ...), each round on fresh filesystems:
 * this VM's speed drifts by +-15% over minutes, so one pair of runs can mislead; the summary gives medians.
 * Checks: each round measures Mailyard twice: with the security checks off (the sender is in
 * smtp.trusted_networks and the domain's antivirus, antispam, greylisting and rate limits are off) and with
 * SPF + DKIM + DMARC verification on (trusted_networks empty; a dnsmasq on loopback publishes the sender domain's
 * SPF, DKIM key and DMARC p=reject; every message is the same DKIM-signed message, signed once by python3-dkim
 * as the sending side would, and sent with smtp-source -F). Postfix gets the same signed message; it does no
 * checks (no milters), so both Mailyard figures are compared with the same durable-ingest figure.
 * Options (env): MESSAGES (5000), SESSIONS (20), SIZE (10240), ROUNDS (3), CPU_PROF=<dir> (profile Mailyard's process),
 * FS=tmp (no fresh filesystems: both servers in the temporary directory), FS=journal / FS=nojournal (fresh
 * filesystems of that kind), PEER=0 (Mailyard only), CHECKS=off|on|both (both).
 * Needs dnsmasq (dnsmasq-base) and /usr/bin/python3 with python3-dkim for the checks-on runs.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { freePorts } from '../helpers/ports.ts';
import { BIN, waitForReady } from '../helpers/server.ts';
import { ensureMailUser, MAIL_UID } from '../helpers/tools.ts';
import { writePostfixInstance } from './postfix.ts';

const MESSAGES = Number(process.env.MESSAGES ?? 5000);
const SESSIONS = Number(process.env.SESSIONS ?? 20);
const SIZE = Number(process.env.SIZE ?? 10240);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CHECKS = process.env.CHECKS ?? 'both';
const MODES: ('off' | 'on')[] = CHECKS === 'both' ? ['off', 'on'] : [CHECKS as 'off' | 'on'];
const UID = MAIL_UID;
const base = mkdtempSync(join(tmpdir(), 'mailyard-bench-'));
const children: ChildProcess[] = [];
let postfixPid: number | undefined;
const mounts: string[] = [];
const loops: string[] = [];

function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (postfixPid) {
    try {
      process.kill(postfixPid, 'SIGTERM');
    } catch {}
  }
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      try {
        execFileSync('umount', ['-l', m]);
      } catch {}
    }
  }
  for (const l of loops) {
    try {
      execFileSync('losetup', ['-d', l]);
    } catch {}
  }
  if (!process.env.KEEP) rmSync(base, { recursive: true, force: true });
}
process.on('exit', cleanup);
// A signal (Ctrl-C, a timeout) still cleans up: mounts, loop devices, the Postfix instance.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

/** Whether the temporary directory's filesystem is ext4 with a journal (jbd2 lists the journals it runs). */
function tmpHasJournal(): boolean {
  const [source, type] = execFileSync('findmnt', ['-n', '-o', 'SOURCE,FSTYPE', '--target', tmpdir()], {
    encoding: 'utf8',
  })
    .trim()
    .split(/\s+/);
  if (type !== 'ext4') return true;
  const dev = source!.split('/').pop()!;
  return readdirSync('/proc/fs/jbd2').some((j) => j.startsWith(`${dev}-`));
}

const FS = process.env.FS ?? (tmpHasJournal() ? 'journal' : 'nojournal');

/** A directory for one server: on a fresh ext4 filesystem of its own (see above), or just a directory (FS=tmp). */
function serverDir(name: string): string {
  const dir = join(base, name);
  mkdirSync(dir);
  if (FS === 'tmp') return dir;
  const image = join(base, `${name}.img`);
  execFileSync('truncate', ['-s', '4G', image]);
  execFileSync('mkfs.ext4', ['-q', '-F', ...(FS === 'nojournal' ? ['-O', '^has_journal'] : []), image]);
  const loop = execFileSync('losetup', ['--direct-io=on', '--show', '-f', image], { encoding: 'utf8' }).trim();
  execFileSync('mount', [loop, dir]);
  loops.push(loop);
  mounts.push(dir);
  return dir;
}

/** CPU time (user + system) a process has used so far, in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * The sender side of the checks-on runs: an RSA key, its DNS records (SPF, DKIM, DMARC p=reject for
 * remote.example) served by dnsmasq on loopback, and one message of about SIZE bytes signed by python3-dkim.
 */
async function senderSide(): Promise<{ dns: string; message: string }> {
  const dir = join(base, 'sender');
  mkdirSync(dir);
  const key = join(dir, 'dkim.key');
  execFileSync('openssl', ['genrsa', '-out', key, '2048'], { stdio: 'ignore' });
  const pub = execFileSync('openssl', ['rsa', '-in', key, '-pubout', '-outform', 'DER'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString('base64');
  const line = 'The quick brown fox jumps over the lazy dog, again and again, for the benchmark.\r\n';
  const body = line.repeat(Math.max(1, Math.floor((SIZE - 400) / line.length)));
  const unsigned = join(dir, 'unsigned.eml');
  writeFileSync(
    unsigned,
    `From: Alice <alice@remote.example>\r\nTo: Bob <bob@example.com>\r\nSubject: benchmark\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <bench@remote.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${body}`,
  );
  const message = join(dir, 'signed.eml');
  execFileSync('/usr/bin/python3', [
    '-c',
    `import dkim,sys
m=open(sys.argv[1],'rb').read()
s=dkim.sign(m,b'bench',b'remote.example',open(sys.argv[2],'rb').read(),include_headers=[b'from',b'to',b'subject',b'date',b'message-id'])
open(sys.argv[3],'wb').write(s+m)`,
    unsigned,
    key,
    message,
  ]);
  const [port] = await freePorts(1);
  const conf = join(dir, 'dnsmasq.conf');
  const chunks = `v=DKIM1; k=rsa; p=${pub}`
    .match(/.{1,200}/g)!
    .map((c) => `"${c}"`)
    .join(',');
  writeFileSync(
    conf,
    [
      `port=${port}`,
      'listen-address=127.0.0.1',
      'bind-interfaces',
      'no-resolv',
      'no-hosts',
      'user=root',
      'local-ttl=3600',
      // Names without a record are NXDOMAIN (authoritative, so negative-cached), as on the Internet.
      'local=/#/',
      'txt-record=remote.example,"v=spf1 ip4:127.0.0.0/8 -all"',
      `txt-record=bench._domainkey.remote.example,${chunks}`,
      'txt-record=_dmarc.remote.example,"v=DMARC1; p=reject"',
      '',
    ].join('\n'),
  );
  const dns = spawn('dnsmasq', ['-k', '-C', conf], { stdio: 'ignore' });
  children.push(dns);
  await new Promise((r) => setTimeout(r, 300));
  return { dns: `127.0.0.1:${port}`, message };
}

// Async, so this process keeps serving its own sockets (a blocked event loop breaks HTTP keep-alive reuse).
const smtpSource = async (port: number, file?: string) => {
  const t0 = performance.now();
  await promisify(execFile)('smtp-source', [
    '-d',
    '-s',
    String(SESSIONS),
    '-m',
    String(MESSAGES),
    ...(file ? ['-F', file] : ['-l', String(SIZE)]),
    '-f',
    'alice@remote.example',
    '-t',
    'bob@example.com',
    `127.0.0.1:${port}`,
  ]);
  return performance.now() - t0;
};

async function benchMailyard(round: number, checks: 'off' | 'on') {
  const dir = serverDir(`mailyard-${round}-${checks}`);
  const [relay, api] = await freePorts(2);
  const config = {
    server: { hostname: 'bench.mailyard.test', bind_address: '127.0.0.1' },
    database: { path: join(dir, 'data/mailserver.db') },
    logger: { level: 'warn', output_path: join(dir, 'mailyard.log') },
    smtp: {
      relay_port: relay,
      submission_port: 0,
      smtps_port: 0,
      max_connections_per_ip: SESSIONS * 2,
      ...(checks === 'on' && { trusted_networks: [] }),
    },
    imap: { port: 0, imaps_port: 0 },
    api: { port: api, admin_token: 'bench-token' },
    dns: { servers: [checks === 'on' ? sender!.dns : '127.0.0.1:53'] },
  };
  writeFileSync(join(dir, 'mailyard.yaml'), stringify(config));
  // CPU_PROF=<dir>: run Mailyard under node --cpu-prof (the profile is written there when it stops).
  const prof = process.env.CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', resolve(process.env.CPU_PROF)] : [];
  const child = spawn(process.execPath, [...prof, BIN, 'run', '--config', join(dir, 'mailyard.yaml')], {
    stdio: 'ignore',
  });
  children.push(child);
  const apiUrl = `http://127.0.0.1:${api}`;
  await waitForReady(apiUrl);
  const call = async (path: string, body: unknown) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer bench-token', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  };
  await call('/api/domains', { name: 'example.com', use_default_template: true });
  // Only SPF, DKIM and DMARC are measured: no scanners run here, and greylisting/rate limits would refuse the load.
  const put = await fetch(`${apiUrl}/api/domains/example.com/security`, {
    method: 'PUT',
    headers: { authorization: 'Bearer bench-token', 'content-type': 'application/json' },
    body: JSON.stringify({
      clamav: { enabled: false },
      spam: { enabled: false },
      greylist: { enabled: false },
      rate_limit: { enabled: false },
      spf: { enabled: checks === 'on' },
      dkim: { verify_enabled: checks === 'on' },
      dmarc: { enabled: checks === 'on' },
    }),
  });
  if (!put.ok) throw new Error(`security settings: ${put.status} ${await put.text()}`);
  await call('/api/users', { email: 'bob@example.com', password: 'bench-password', quota: 0 });
  const cpu0 = cpuMs(child.pid!);
  const ms = await smtpSource(relay!, sender?.message);
  const cpu = cpuMs(child.pid!) - cpu0;
  const q = await fetch(`${apiUrl}/graphql`, {
    method: 'POST',
    headers: { authorization: 'Bearer bench-token', 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ user(email: "bob@example.com") { mailboxes { name messageCount } } }' }),
  }).then((r) => r.json() as Promise<{ data: { user: { mailboxes: { name: string; messageCount: number }[] } } }>);
  const indexed = q.data.user.mailboxes.find((m) => m.name === 'INBOX')!.messageCount;
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rssKb = Number(/VmHWM:\s+(\d+)/.exec(status)![1]);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  return { ms, indexed, rssMb: rssKb / 1024, cpu };
}

async function benchPostfix(round: number) {
  const dir = serverDir(`postfix-${round}`);
  mkdirSync(join(dir, 'mail'), { recursive: true });
  execFileSync('chmod', ['755', base, dir]);
  if (!ensureMailUser()) throw new Error(`the benchmark needs a system user with uid ${UID} (run it as root)`);
  chownSync(join(dir, 'mail'), UID, UID);
  const [port] = await freePorts(1);
  writePostfixInstance(
    dir,
    port!,
    `smtpd_recipient_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = example.com
virtual_mailbox_base = ${dir}/mail
virtual_mailbox_maps = texthash:${dir}/etc/vmailbox
virtual_uid_maps = static:${UID}
virtual_gid_maps = static:${UID}
virtual_minimum_uid = 100
smtp_dns_support_level = disabled
`,
  );
  writeFileSync(join(dir, 'etc/vmailbox'), 'bob@example.com example.com/bob/\n');
  execFileSync('postfix', ['-c', join(dir, 'etc'), 'start'], { stdio: 'ignore' });
  postfixPid = Number(readFileSync(join(dir, 'queue/pid/master.pid'), 'utf8').trim());
  const maildir = join(dir, 'mail/example.com/bob/new');
  const t0 = performance.now();
  await smtpSource(port!, sender?.message);
  const deadline = Date.now() + 600_000;
  let delivered = 0;
  for (;;) {
    try {
      delivered = readdirSync(maildir).length;
    } catch {}
    if (delivered >= MESSAGES || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = performance.now() - t0;
  process.kill(postfixPid, 'SIGTERM');
  postfixPid = undefined;
  return { ms, delivered };
}

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
const sender = MODES.includes('on') ? await senderSide() : null;
console.log(
  `smtp-source: ${MESSAGES} messages of ${SIZE} bytes over ${SESSIONS} sessions, one local mailbox; ${FS === 'tmp' ? `files in ${tmpdir()}` : `each server on a fresh ext4 filesystem (${FS === 'nojournal' ? 'no journal' : 'journal'})`}; ${ROUNDS} round(s), the servers alternating; Mailyard with checks ${MODES.join(' and ')}`,
);
type Run = Awaited<ReturnType<typeof benchMailyard>>;
const mine: Record<'off' | 'on', Run[]> = { off: [], on: [] };
const peers: Awaited<ReturnType<typeof benchPostfix>>[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const mode of MODES) {
    const my = await benchMailyard(round, mode);
    mine[mode].push(my);
    console.log(
      `round ${round} mailyard (checks ${mode}): ${((MESSAGES / my.ms) * 1000).toFixed(0)} msg/s (${(my.ms / 1000).toFixed(2)} s; ${my.indexed} indexed), peak RSS ${my.rssMb.toFixed(0)} MB, CPU ${(my.cpu / MESSAGES).toFixed(2)} ms/msg (${((my.cpu / my.ms) * 100).toFixed(0)}% of a core)`,
    );
  }
  if (process.env.PEER === '0') continue;
  const pf = await benchPostfix(round);
  peers.push(pf);
  const pfRate = (pf.delivered / pf.ms) * 1000;
  console.log(
    `round ${round} postfix:  ${pfRate.toFixed(0)} msg/s (${(pf.ms / 1000).toFixed(2)} s; ${pf.delivered} in the Maildir); ratio ${MODES.map((m) => `checks ${m} ${(((MESSAGES / mine[m].at(-1)!.ms) * 1000) / pfRate).toFixed(2)}x`).join(', ')}`,
  );
}
const pfRates = peers.map((p) => (p.delivered / p.ms) * 1000);
if (peers.length)
  console.log(
    `postfix:  ${median(pfRates).toFixed(0)} msg/s (median; ${Math.min(...pfRates).toFixed(0)}-${Math.max(...pfRates).toFixed(0)})`,
  );
for (const mode of MODES) {
  const rates = mine[mode].map((m) => (MESSAGES / m.ms) * 1000);
  const peakRss = Math.max(...mine[mode].map((m) => m.rssMb));
  console.log(
    `mailyard (checks ${mode}): ${median(rates).toFixed(0)} msg/s (median; ${Math.min(...rates).toFixed(0)}-${Math.max(...rates).toFixed(0)}), peak RSS ${peakRss.toFixed(0)} MB (highest round)`,
  );
  if (peers.length) {
    const ratios = rates.map((r, i) => r / pfRates[i]!);
    console.log(
      `ratio mailyard (checks ${mode})/postfix: ${(median(rates) / median(pfRates)).toFixed(2)}x of the medians; per round ${ratios.map((r) => r.toFixed(2)).join(' ')} (target ${mode === 'off' ? '>= 2.0x' : '>= 1.0x'}; RSS target < 250 MB)`,
    );
  }
}
if (MODES.some((m) => mine[m].some((r) => r.indexed !== MESSAGES)) || peers.some((p) => p.delivered < MESSAGES)) {
  console.error('not every message was stored: the figures above are not valid');
  process.exitCode = 1;
}
// The sender side's dnsmasq is a child of this process: exit explicitly (the exit handler stops it and cleans up).
process.exit();
