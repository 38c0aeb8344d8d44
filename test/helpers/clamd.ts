// A real ClamAV daemon for tests (Debian's clamav-daemon, which .ci/run installs): clamd in the foreground with a
// database of the two EICAR test signatures only (Debian ships none and freshclam cannot download here), listening
// on a Unix socket in a throwaway folder and on a free loopback port. Ready when it answers zPING; stopped by PID.
// startClamd() ties the daemon to one test (or a Scope); sharedClamd() starts one per test file, lazily.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type Scope, shared, stopByPid } from './daemons.ts';
import { freePort } from './ports.ts';
import { tmpDir } from './tmp.ts';
import { needTool } from './tools.ts';
import { waitUntil } from './wait.ts';

export interface ClamdDaemon {
  /** The Unix socket path. */
  socket: string;
  /** "127.0.0.1:port". */
  tcp: string;
  pid: number;
  /** SIGTERM by PID, resolved once the process has exited (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** The names clamd gives the two test signatures (".UNOFFICIAL": they are not from the official database). */
export const EICAR_SIGNATURES = ['Test.EICAR.HDB.UNOFFICIAL', 'Test.EICAR.NDB.UNOFFICIAL'];

/** The 68-byte EICAR anti-virus test file. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

/** zPING over `socket`, true on PONG. */
export function clamdPing(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path: socket }, () => s.end('zPING\0'));
    let got = '';
    s.setTimeout(2000, () => s.destroy());
    s.on('data', (d) => {
      got += d;
    });
    s.on('close', () => resolve(got.replace(/\0$/, '') === 'PONG'));
    s.on('error', () => {});
  });
}

/** Starts clamd (null after unavailable() when it is not installed); `scope` owns its lifetime (default: `t`). */
export async function startClamd(t: TestContext, scope: Scope = t): Promise<ClamdDaemon | null> {
  const bin = needTool(t, 'clamd', 'clamav-daemon');
  if (!bin) return null;
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child) await stopByPid(child);
  };
  scope.after(stop); // before the folder's removal, so the daemon stops first
  const dir = tmpDir(scope, 'mailyard-clamd-');
  const db = join(dir, 'db');
  mkdirSync(db);
  writeFileSync(join(db, 'eicar.hdb'), '44d88612fea8a8f36de82e1278abb02f:68:Test.EICAR.HDB\n');
  writeFileSync(
    join(db, 'eicar.ndb'),
    'Test.EICAR.NDB:0:*:45494341522d5354414e444152442d414e544956495255532d544553542d46494c45\n',
  );
  const port = await freePort();
  const socket = join(dir, 'clamd.sock');
  const conf = join(dir, 'clamd.conf');
  writeFileSync(
    conf,
    [
      `DatabaseDirectory ${db}`,
      `LocalSocket ${socket}`,
      'LocalSocketMode 666',
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      'Foreground yes',
      'ScanMail yes',
      'StreamMaxLength 25M',
      `PidFile ${join(dir, 'clamd.pid')}`,
      `LogFile ${join(dir, 'clamd.log')}`,
      // No User line: clamd keeps the starting user, so it can read the (root-owned) throwaway folder.
      '',
    ].join('\n'),
  );
  const proc = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  child = proc;
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr += d;
  });
  await waitUntil(async () => proc.exitCode === null && (await clamdPing(socket)), 'clamd to answer PONG', {
    detail: () => `exit ${proc.exitCode}; ${stderr.slice(-2000)}`,
  });
  return { socket, tcp: `127.0.0.1:${port}`, pid: proc.pid!, stop };
}

/** One clamd per test file (see shared() in daemons.ts): `const clamd = sharedClamd();` at the top level. */
export const sharedClamd = () => shared('clamd', 'clamav-daemon', startClamd);
