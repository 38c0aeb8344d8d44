/**
 * `npm run bench:imap [-- idle] [-- --flag=value ...]`: Mailyard's IMAP server under load, started as a child
 * process through the real CLI with a throwaway config and data folder; users are created through the REST API
 * and their INBOXes seeded over SMTP (one transaction per message, all users of a batch as recipients).
 *
 * Mode `mixed` (default): SESSIONS concurrent sessions over real sockets, shared round-robin by USERS users (so
 * several sessions watch the same INBOX and see each other's changes), each looping for DURATION seconds over a
 * weighted mix: SELECT INBOX, FETCH 50 x FLAGS, FETCH 10 x ENVELOPE, FETCH 1 x BODY.PEEK[], STORE +/-FLAGS on 1-3
 * messages, SEARCH (UNSEEN / FLAGGED / LARGER / SINCE NOT DELETED), APPEND of a 2 KB message, EXPUNGE (of a
 * message this session appended, after a silent STORE \Deleted that is not timed). Prints commands/s and
 * p50/p99 latency (ms, from writing the command to reading its tagged reply), overall and per command type.
 *
 * Mode `idle` (`-- idle` or `--mode=idle`): SESSIONS (default 1000) connections for USERS (default 100) users, each
 * with INBOX selected and in IDLE; then DELIVERIES messages are sent over SMTP at RATE per second, each to one
 * user with no delivery to that user still outstanding. Notification latency is the time to the `* n EXISTS` on
 * every idle connection of that user, measured from the moment the client wrote the end of DATA (so it includes
 * the server's fsync and commit: the stricter figure, used for the target) and, for reference, from the client
 * reading the 250 (can be <= 0: the server publishes the change right after the commit, before 250 is read).
 * Server memory is read from /proc/<pid>/status: VmRSS sampled while the sessions are held (the target) and
 * VmHWM (peak over the whole run, which includes the logins: scrypt takes 32 MB per concurrent verification).
 *
 * Flags: --mode=mixed|idle, --sessions=N, --users=N, --messages=N (seeded per user), --duration=S (mixed),
 * --deliveries=N and --rate=N (idle), --logins=N (concurrent logins during setup), --cpu-prof[=DIR] (run the
 * server under node --cpu-prof; the profile is written to DIR when it stops), --keep (leave the data folder).
 *
 * Client and server run on the same machine and compete for its cores (2 on the reference box): the figures are
 * for both together; the client is the tests' raw IMAP client (test/helpers/imap.ts: one parser pass per chunk, no
 * per-line promises).
 * Not part of `npm test`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { RawImap } from '../helpers/imap.ts';
import { freePorts } from '../helpers/ports.ts';
import { BIN, waitForReady } from '../helpers/server.ts';
import { dotStuff, RawSmtp } from '../helpers/smtp.ts';

// ---- options -------------------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  for (const a of argv) {
    if (a === `--${name}`) return '';
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
};
const num = (name: string, dflt: number): number => {
  const v = flag(name);
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} expects a number, got ${v}`);
  return n;
};
const MODE = flag('mode') ?? (argv.includes('idle') ? 'idle' : 'mixed');
if (MODE !== 'mixed' && MODE !== 'idle') throw new Error(`--mode must be mixed or idle, not ${MODE}`);
const IDLE = MODE === 'idle';
const SESSIONS = num('sessions', IDLE ? 1000 : 50);
const USERS = Math.min(num('users', IDLE ? 100 : 10), SESSIONS);
const MESSAGES = num('messages', IDLE ? 20 : 200);
const DURATION = num('duration', 20);
const DELIVERIES = num('deliveries', 300);
const RATE = num('rate', 20);
const LOGINS = num('logins', 8);
const CPU_PROF = flag('cpu-prof');
const KEEP = flag('keep') !== undefined;
const REAL_HASH = flag('real-hash') !== undefined;
const PASSWORD = 'bench-password';
const DOMAIN = 'bench.example';
const userEmail = (i: number) => `u${i}@${DOMAIN}`;

// ---- sessions over the tests' raw IMAP client (test/helpers/imap.ts) ---------------------------------------------

/** A benchmark session: the raw client, plus what the server last told this connection the mailbox holds. */
class Imap {
  exists = 0;
  private constructor(readonly raw: RawImap) {}

  static async connect(port: number): Promise<Imap> {
    return new Imap(await RawImap.connect(port));
  }

  /** Sends a command (with any literal already inline, LITERAL+), no timeout; resolves with its tagged line. */
  async cmd(command: string | Buffer): Promise<string> {
    const r = await this.raw.cmd(command, 0);
    for (const line of r.lines) {
      const m = /^\* (\d+) (EXISTS|EXPUNGE)/.exec(line);
      if (m) {
        if (m[2] === 'EXISTS') this.exists = Number(m[1]);
        else this.exists--;
      }
    }
    return r.tagged;
  }

  async ok(command: string | Buffer): Promise<string> {
    const r = await this.cmd(command);
    if (!/^\S+ OK/.test(r)) throw new Error(`${String(command).slice(0, 60)}: ${r}`);
    return r;
  }

  /** Enters IDLE; resolves once the server answered "+ idling". Untagged lines then go to onUnsolicited. */
  async idle(): Promise<void> {
    this.raw.write(`${this.raw.nextTag()} IDLE\r\n`);
    const l = await this.raw.readLine();
    if (!l.startsWith('+')) throw new Error(`IDLE: ${l}`);
  }

  /** Untagged lines outside any command (IDLE notifications). */
  set onUnsolicited(fn: ((line: string) => void) | null) {
    this.raw.onUnsolicited(fn);
  }

  close(): void {
    this.raw.close();
  }
}

// ---- helpers ---------------------------------------------------------------------------------------------------

const base = mkdtempSync(join(tmpdir(), 'mailyard-imap-bench-'));
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (!KEEP) rmSync(base, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (n: number) => Math.floor(Math.random() * n);
const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : Number.NaN;
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '-');

function procStatus(pid: number): { rssMb: number; hwmMb: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

function openFileLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

function message(i: number, to: string, bodyBytes: number): Buffer {
  const line = 'The quick brown fox jumps over the lazy dog while the benchmark measures IMAP latency.\r\n';
  const body = line.repeat(Math.max(1, Math.ceil(bodyBytes / line.length)));
  return Buffer.from(
    `From: Alice Sender <alice@remote.example>\r\nTo: ${to}\r\nSubject: Benchmark message ${i} about topic ${i % 17}\r\n` +
      `Date: ${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString().replace('GMT', '+0000')}\r\n` +
      `Message-ID: <bench.${i}.${Date.now()}@remote.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`,
  );
}

// ---- server --------------------------------------------------------------------------------------------------

interface Server {
  child: ChildProcess;
  pid: number;
  imap: number;
  smtp: number;
  api: string;
  dbPath: string;
  profDir?: string;
  stop(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const dir = join(base, 'server');
  mkdirSync(dir);
  const [relay, imap, api] = await freePorts(3);
  const config = {
    server: { hostname: 'bench.mailyard.test', bind_address: '127.0.0.1', shutdown_timeout: 2 },
    database: { path: join(dir, 'data/mailserver.db') },
    logger: { level: 'warn', output_path: join(dir, 'mailyard.log') },
    smtp: { relay_port: relay, submission_port: 0, smtps_port: 0, max_connections_per_ip: 200, max_recipients: 1000 },
    imap: { port: imap, imaps_port: 0, max_sessions_per_user: 0, max_connections: SESSIONS + 100 },
    api: { port: api, admin_token: 'bench-token' },
    dns: { servers: ['127.0.0.1:53'] },
  };
  writeFileSync(join(dir, 'mailyard.yaml'), stringify(config));
  const nodeArgs: string[] = [];
  let profDir: string | undefined;
  if (CPU_PROF !== undefined) {
    profDir = resolve(CPU_PROF || join(process.cwd(), 'bench-profiles'));
    mkdirSync(profDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
  }
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'run', '--config', join(dir, 'mailyard.yaml')], {
    stdio: 'ignore',
  });
  children.push(child);
  const apiUrl = `http://127.0.0.1:${api}`;
  await waitForReady(apiUrl, 30_000);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    pid: child.pid!,
    imap: imap!,
    smtp: relay!,
    api: apiUrl,
    dbPath: join(dir, 'data/mailserver.db'),
    profDir,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
    },
  };
}

async function createUsers(apiUrl: string): Promise<void> {
  const call = async (path: string, body: unknown) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer bench-token', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  };
  await call('/api/domains', { name: DOMAIN, use_default_template: true });
  await pool(
    Array.from({ length: USERS }, (_, i) => i),
    4,
    (i) => call('/api/users', { email: userEmail(i), password: PASSWORD, quota: 0 }),
  );
}

/**
 * Logins are not what this measures, and scrypt at ln=15 costs ~0.25 s of CPU per LOGIN on a small box (1,000
 * sessions: minutes). Unless --real-hash, the bench users get an ln=10 hash of the same password, written into the
 * database (the format records its parameters, so the server verifies it as is).
 */
function cheapenPasswords(dbPath: string): void {
  if (REAL_HASH) return;
  const salt = randomBytes(16);
  const key = scryptSync(PASSWORD.normalize('NFC'), salt, 32, { N: 1024, r: 8, p: 1 });
  const hash = `$scrypt$ln=10,r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`;
  const db = new Database(dbPath);
  db.pragma('busy_timeout = 10000');
  db.prepare('update users set password_hash = ? where email like ?').run(hash, `%@${DOMAIN}`);
  db.close();
}

async function smtpSession(port: number): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  if ((await c.reply()).code !== 220) throw new Error('no SMTP greeting');
  if ((await c.cmd('EHLO bench.client')).code !== 250) throw new Error('EHLO refused');
  return c;
}

/** Every user gets MESSAGES messages: one transaction per message with all users as recipients. */
async function seed(port: number): Promise<void> {
  const all = Array.from({ length: USERS }, (_, i) => userEmail(i));
  const conns = await Promise.all(Array.from({ length: 4 }, () => smtpSession(port)));
  let next = 0;
  await Promise.all(
    conns.map(async (c) => {
      while (next < MESSAGES) {
        const i = next++;
        const r = await c.send('alice@remote.example', all, message(i, 'bench users', 1500 + (i % 7) * 700));
        if (r.data?.code !== 250) throw new Error(`seed delivery failed: ${JSON.stringify(r.data ?? r.rcpt[0])}`);
      }
      c.close();
    }),
  );
}

/** Connects and logs in `n` sessions (user = index mod USERS), at most LOGINS logins at a time. */
async function loginAll(port: number, n: number): Promise<Imap[]> {
  const out: Imap[] = new Array(n);
  await pool(
    Array.from({ length: n }, (_, i) => i),
    LOGINS,
    async (i) => {
      const c = await Imap.connect(port);
      await c.ok(`LOGIN ${userEmail(i % USERS)} ${PASSWORD}`);
      out[i] = c;
    },
  );
  return out;
}

// ---- mode 1: mixed commands ------------------------------------------------------------------------------------

type Op = 'SELECT' | 'FETCH FLAGS' | 'FETCH ENVELOPE' | 'FETCH BODY' | 'STORE' | 'SEARCH' | 'APPEND' | 'EXPUNGE';
const WEIGHTS: [Op, number][] = [
  ['SELECT', 4],
  ['FETCH FLAGS', 22],
  ['FETCH ENVELOPE', 15],
  ['FETCH BODY', 12],
  ['STORE', 17],
  ['SEARCH', 14],
  ['APPEND', 8],
  ['EXPUNGE', 8],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((n, [, w]) => n + w, 0);
const pickOp = (): Op => {
  let r = rand(TOTAL_WEIGHT);
  for (const [op, w] of WEIGHTS) {
    if (r < w) return op;
    r -= w;
  }
  return 'FETCH FLAGS';
};
const SEARCHES = ['SEARCH UNSEEN', 'SEARCH FLAGGED', 'UID SEARCH LARGER 3000', 'SEARCH SINCE 1-Jan-2026 NOT DELETED'];
const STORES = ['+FLAGS (\\Flagged)', '-FLAGS (\\Flagged)', '+FLAGS (\\Seen)', '-FLAGS (\\Seen)'];

async function mixed(server: Server, sessions: Imap[]): Promise<void> {
  const lat = new Map<Op, number[]>(WEIGHTS.map(([op]) => [op, []]));
  const failures = new Map<string, number>();
  const appended: number[][] = sessions.map(() => []);
  let appendCounter = 0;
  const appendMsg = (i: number) => {
    const data = message(1_000_000 + i, 'bench users', 2000);
    return Buffer.concat([Buffer.from(`APPEND INBOX (\\Seen) {${data.length}+}\r\n`), data]);
  };
  await Promise.all(sessions.map((c) => c.ok('SELECT INBOX')));
  const cpu0 = process.cpuUsage();
  const serverCpu0 = serverCpuSeconds(server.pid);
  const t0 = performance.now();
  const end = t0 + DURATION * 1000;
  let stopped = 0;
  await Promise.all(
    sessions.map(async (c, si) => {
      while (performance.now() < end) {
        const op = pickOp();
        const n = c.exists;
        let command: string | Buffer;
        if (n === 0 && op !== 'SELECT' && op !== 'APPEND') continue;
        switch (op) {
          case 'SELECT':
            command = 'SELECT INBOX';
            break;
          case 'FETCH FLAGS': {
            const a = 1 + rand(Math.max(1, n - 49));
            command = `FETCH ${a}:${Math.min(n, a + 49)} (FLAGS)`;
            break;
          }
          case 'FETCH ENVELOPE': {
            const a = 1 + rand(Math.max(1, n - 9));
            command = `FETCH ${a}:${Math.min(n, a + 9)} (UID RFC822.SIZE ENVELOPE)`;
            break;
          }
          case 'FETCH BODY':
            command = `FETCH ${1 + rand(n)} (BODY.PEEK[])`;
            break;
          case 'STORE': {
            const a = 1 + rand(n);
            command = `STORE ${a}:${Math.min(n, a + rand(3))} ${STORES[rand(STORES.length)]}`;
            break;
          }
          case 'SEARCH':
            command = SEARCHES[rand(SEARCHES.length)]!;
            break;
          case 'APPEND':
            command = appendMsg(appendCounter++);
            break;
          case 'EXPUNGE': {
            const mine = appended[si]!;
            if (!mine.length) continue;
            const uid = mine.splice(rand(mine.length), 1)[0]!;
            await c.ok(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
            command = 'EXPUNGE';
            break;
          }
        }
        const t = performance.now();
        let tagged: string;
        try {
          tagged = await c.cmd(command);
        } catch (e) {
          failures.set(`${op}: ${(e as Error).message}`, (failures.get(`${op}: ${(e as Error).message}`) ?? 0) + 1);
          return;
        }
        const dt = performance.now() - t;
        if (/^\S+ OK/.test(tagged)) {
          if (t < end) lat.get(op)!.push(dt);
          if (op === 'APPEND') {
            const m = /APPENDUID \d+ (\d+)/.exec(tagged);
            if (m) appended[si]!.push(Number(m[1]));
          }
        } else {
          const k = `${op}: ${tagged.replace(/^\S+ /, '').slice(0, 80)}`;
          failures.set(k, (failures.get(k) ?? 0) + 1);
        }
      }
      stopped++;
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const status = procStatus(server.pid);
  const serverCpu = serverCpuSeconds(server.pid) - serverCpu0;
  const all: number[] = [];
  console.log(`\nmixed workload: ${sessions.length} sessions, ${USERS} users (${MESSAGES} seeded messages each)`);
  console.log(`ran ${elapsed.toFixed(1)} s (${stopped} sessions finished)\n`);
  console.log(
    `${'command'.padEnd(16)}${'count'.padStart(8)}${'cmd/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`,
  );
  for (const [op, list] of lat) {
    list.sort((a, b) => a - b);
    all.push(...list);
    console.log(
      `${op.padEnd(16)}${String(list.length).padStart(8)}${(list.length / elapsed).toFixed(0).padStart(9)}${ms(pct(list, 50)).padStart(9)}${ms(pct(list, 99)).padStart(9)}${ms(list[list.length - 1] ?? Number.NaN).padStart(9)}`,
    );
  }
  all.sort((a, b) => a - b);
  console.log(
    `${'ALL'.padEnd(16)}${String(all.length).padStart(8)}${(all.length / elapsed).toFixed(0).padStart(9)}${ms(pct(all, 50)).padStart(9)}${ms(pct(all, 99)).padStart(9)}${ms(all[all.length - 1] ?? Number.NaN).padStart(9)}`,
  );
  console.log(`\nthroughput: ${(all.length / elapsed).toFixed(0)} commands/s (timed commands with an OK reply)`);
  for (const [k, v] of failures) console.log(`  not OK: ${v} x ${k}`);
  console.log(
    `CPU during the run: server ${serverCpu.toFixed(1)} s, client ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (of ${(elapsed * availableParallelism()).toFixed(0)} s on ${availableParallelism()} cores); server CPU per command ${((serverCpu * 1000) / Math.max(1, all.length)).toFixed(2)} ms`,
  );
  console.log(
    `machine load average (1 min) at the end: ${loadavg()[0]!.toFixed(1)} (other processes skew the figures)`,
  );
  console.log(`server memory: VmRSS ${status.rssMb.toFixed(0)} MB, VmHWM ${status.hwmMb.toFixed(0)} MB`);
  console.log('targets: none set for the mixed workload (figures for comparison between runs)');
}

function serverCpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(parts[11]) + Number(parts[12])) / 100;
}

// ---- mode 2: IDLE notifications --------------------------------------------------------------------------------

async function idle(server: Server, sessions: Imap[]): Promise<void> {
  const byUser: Imap[][] = Array.from({ length: USERS }, () => []);
  for (const [i, c] of sessions.entries()) byUser[i % USERS]!.push(c);
  await pool(sessions, 50, async (c) => {
    await c.ok('SELECT INBOX');
    await c.idle();
  });
  await sleep(500);
  const held = procStatus(server.pid);
  console.log(`${sessions.length} sessions in IDLE; server VmRSS ${held.rssMb.toFixed(0)} MB before deliveries`);

  interface Outstanding {
    tData: number;
    t250: number;
    waiting: Set<Imap>;
    /** Notifications that arrived before the 250 was read (times; made relative once it is). */
    early: number[];
    done: () => void;
  }
  const outstanding = new Map<number, Outstanding>();
  const fromData: number[] = [];
  const from250: number[] = [];
  let missed = 0;
  const userOf = new Map<Imap, number>();
  for (const [i, c] of sessions.entries()) userOf.set(c, i % USERS);
  for (const c of sessions)
    c.onUnsolicited = (line) => {
      if (!/^\* \d+ EXISTS/.test(line)) return;
      const now = performance.now();
      const o = outstanding.get(userOf.get(c)!);
      if (!o?.waiting.delete(c)) return;
      fromData.push(now - o.tData);
      if (o.t250) from250.push(now - o.t250);
      else o.early.push(now);
      if (!o.waiting.size) o.done();
    };

  let rssMax = held.rssMb;
  const sampler = setInterval(() => {
    rssMax = Math.max(rssMax, procStatus(server.pid).rssMb);
  }, 250);
  const conns = await Promise.all(Array.from({ length: 8 }, () => smtpSession(server.smtp)));
  const free = [...conns];
  const busyUsers = new Set<number>();
  const inflight: Promise<void>[] = [];
  const t0 = performance.now();
  for (let d = 0; d < DELIVERIES; d++) {
    const due = t0 + (d * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    while (!free.length) await sleep(1);
    let u = rand(USERS);
    for (let k = 0; busyUsers.has(u) && k < USERS; k++) u = (u + 1) % USERS;
    if (busyUsers.has(u)) {
      await sleep(5);
      d--;
      continue;
    }
    busyUsers.add(u);
    const conn = free.pop()!;
    inflight.push(
      (async () => {
        const to = userEmail(u);
        const data = message(5_000_000 + d, to, 2000);
        const mail = await conn.cmd('MAIL FROM:<alice@remote.example>');
        const rcpt = await conn.cmd(`RCPT TO:<${to}>`);
        const go = await conn.cmd('DATA');
        if (mail.code !== 250 || rcpt.code !== 250 || go.code !== 354) throw new Error('delivery refused');
        let done!: () => void;
        const notified = new Promise<void>((r) => {
          done = r;
        });
        const o: Outstanding = {
          tData: 0,
          t250: 0,
          waiting: new Set(byUser[u]!),
          early: [],
          done,
        };
        o.tData = performance.now();
        outstanding.set(u, o);
        conn.write(Buffer.concat([dotStuff(data), Buffer.from('.\r\n')]));
        const r = await conn.reply();
        o.t250 = performance.now();
        for (const t of o.early) from250.push(t - o.t250);
        if (r.code !== 250) throw new Error(`delivery failed: ${r.text}`);
        free.push(conn);
        const timeout = sleep(5000).then(() => 'timeout');
        if ((await Promise.race([notified, timeout])) === 'timeout') missed += o.waiting.size;
        outstanding.delete(u);
        busyUsers.delete(u);
      })(),
    );
  }
  await Promise.all(inflight);
  const sendSeconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const status = procStatus(server.pid);
  rssMax = Math.max(rssMax, status.rssMb);
  for (const c of conns) c.close();
  fromData.sort((a, b) => a - b);
  from250.sort((a, b) => a - b);
  const expected = DELIVERIES * Math.ceil(sessions.length / USERS);
  console.log(
    `\nIDLE notifications: ${DELIVERIES} deliveries over SMTP at ${RATE}/s (${sendSeconds.toFixed(1)} s), ` +
      `each to one user watched by ~${Math.round(sessions.length / USERS)} idle connections`,
  );
  console.log(`notifications received: ${fromData.length} of ~${expected}; missed (none within 5 s): ${missed}`);
  console.log(
    `latency from end of DATA written:  p50 ${ms(pct(fromData, 50))} ms  p99 ${ms(pct(fromData, 99))} ms  max ${ms(fromData[fromData.length - 1] ?? Number.NaN)} ms`,
  );
  console.log(
    `latency from 250 read (reference): p50 ${ms(pct(from250, 50))} ms  p99 ${ms(pct(from250, 99))} ms  (<= 0: EXISTS came before the 250)`,
  );
  console.log(
    `server memory with ${sessions.length} sessions: VmRSS ${held.rssMb.toFixed(0)} MB idle, max ${rssMax.toFixed(0)} MB during deliveries; VmHWM ${status.hwmMb.toFixed(0)} MB (peak of the whole run, logins included)`,
  );
  const p99 = pct(fromData, 99);
  const okLatency = p99 < 100 && missed === 0;
  console.log(
    `${okLatency ? 'PASS' : 'MISS'}: p99 notification latency ${ms(p99)} ms (target < 100 ms${missed ? `; ${missed} missed` : ''})`,
  );
  console.log(
    `${rssMax < 300 ? 'PASS' : 'MISS'}: server VmRSS ${rssMax.toFixed(0)} MB at ${sessions.length} sessions (target < 300 MB)`,
  );
}

// ---- main ------------------------------------------------------------------------------------------------------

const limit = openFileLimit();
if (limit < SESSIONS + 200)
  console.warn(
    `warning: open-file limit ${limit} is low for ${SESSIONS} sessions (this process holds one socket per session, the server another); run \`ulimit -n ${SESSIONS * 2 + 1000}\` first`,
  );
console.log(
  `Mailyard IMAP benchmark, mode ${MODE}: ${SESSIONS} sessions, ${USERS} users; client and server share this machine's ${availableParallelism()} CPU core(s), so the figures are for both together`,
);
const server = await startServer();
let t = performance.now();
await createUsers(server.api);
cheapenPasswords(server.dbPath);
await seed(server.smtp);
console.log(
  `setup: ${USERS} users, ${MESSAGES} messages each seeded over SMTP in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);
t = performance.now();
const sessions = await loginAll(server.imap, SESSIONS);
console.log(
  `setup: ${SESSIONS} sessions logged in in ${((performance.now() - t) / 1000).toFixed(1)} s (${LOGINS} at a time; scrypt ${REAL_HASH ? 'ln=15 as created' : 'ln=10 set by the bench, --real-hash for ln=15'})`,
);
try {
  if (IDLE) await idle(server, sessions);
  else await mixed(server, sessions);
} finally {
  for (const c of sessions) c.close();
  await server.stop();
  if (server.profDir) console.log(`CPU profile of the server written to ${server.profDir}`);
  if (KEEP) console.log(`data kept in ${base}`);
}
