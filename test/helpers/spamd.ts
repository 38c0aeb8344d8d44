// A real SpamAssassin daemon for tests (Debian's spamd, which .ci/run installs): spamd on a free loopback port,
// local tests only (--local: no DNS blocklists, no network), with the rules Debian ships. Its site configuration
// is a throwaway copy of /etc/spamassassin's plugin loaders (*.pre) plus a local.cf that turns Bayes off, so a test
// run neither depends on nor writes to the machine's learned data; per-user configuration is off too. Ready when it
// answers PING; stopped by PID. Starting takes a second or more (it compiles the rules), so a test file shares one
// (sharedSpamd()).
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type Scope, shared, stopByPid } from './daemons.ts';
import { freePort } from './ports.ts';
import { tmpDir } from './tmp.ts';
import { needTool } from './tools.ts';
import { waitUntil } from './wait.ts';

export interface SpamdDaemon {
  host: string;
  port: number;
  pid: number;
  /** SIGTERM by PID (spamd then stops its children), resolved once it has exited. */
  stop(): Promise<void>;
  /** spamd's log so far. */
  log(): string;
}

/** The GTUBE test string: SpamAssassin scores a message holding it 1000. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** The system user spamd's children run as when started by root (Debian's spamd package creates it). */
const SPAMD_USER = 'debian-spamd';

/**
 * PING over TCP, true on `SPAMD/1.5 0 PONG`. spamd listens a while before its children serve (they answer a
 * connection made in between once ready, ~2-5 s after the start), so the wait for an answer is long.
 */
export function spamdPing(port: number, host = '127.0.0.1', timeoutMs = 20_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host, () => s.write('PING SPAMC/1.5\r\n\r\n'));
    let got = '';
    s.setTimeout(timeoutMs, () => s.destroy());
    s.on('data', (d) => {
      got += d;
    });
    s.on('close', () => resolve(/^SPAMD\/[\d.]+ 0 PONG\r\n/.test(got)));
    s.on('error', () => {});
  });
}

/** Starts spamd (null after unavailable() when it is not installed); `scope` owns its lifetime (default: `t`). */
export async function startSpamd(t: TestContext, scope: Scope = t): Promise<SpamdDaemon | null> {
  const bin = needTool(t, 'spamd', 'spamd');
  if (!bin) return null;
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child) await stopByPid(child);
  };
  scope.after(stop); // before the folder's removal, so the daemon stops first
  const dir = tmpDir(scope, 'mailyard-spamd-');
  chmodSync(dir, 0o755); // spamd's children run as SPAMD_USER and read the site configuration from here
  for (const f of readdirSync('/etc/spamassassin').filter((n) => n.endsWith('.pre')))
    copyFileSync(join('/etc/spamassassin', f), join(dir, f));
  writeFileSync(join(dir, 'local.cf'), 'use_bayes 0\nbayes_auto_learn 0\n');
  const port = await freePort();
  const log = join(dir, 'spamd.log');
  const asRoot = process.getuid?.() === 0;
  const proc = spawn(
    bin,
    [
      `--listen=127.0.0.1:${port}`,
      '--allowed-ips=127.0.0.1',
      '--local',
      '--nouser-config',
      `--siteconfigpath=${dir}`,
      ...(asRoot ? [`--username=${SPAMD_USER}`] : []),
      '--max-children=2',
      `--pidfile=${join(dir, 'spamd.pid')}`,
      `--syslog=${log}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child = proc;
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr += d;
  });
  const readLog = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  await waitUntil(async () => proc.exitCode === null && (await spamdPing(port)), 'spamd to answer PONG', {
    timeoutMs: 30_000,
    intervalMs: 50,
    detail: () => `exit ${proc.exitCode}; ${stderr.slice(-1000)}; ${readLog().slice(-1000)}`,
  });
  return { host: '127.0.0.1', port, pid: proc.pid!, stop, log: readLog };
}

/** One spamd per test file (see shared() in daemons.ts): `const spamd = sharedSpamd();` at the top level. */
export const sharedSpamd = () => shared('spamd', 'spamd', startSpamd);
