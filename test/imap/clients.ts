/**
 * Real IMAP clients for the acceptance tests: imapflow (in process), Python's imaplib and curl, mbsync (child
 * processes). Child processes are always run asynchronously: the server under test lives in this process, so a
 * synchronous child call would block the event loop that has to answer it.
 */
import { execFile } from 'node:child_process';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { TEST_PASSWORD } from '../helpers/password.ts';

/** /usr/bin/python3 explicitly: `python3` on PATH may be a pyenv build. */
export const PYTHON = '/usr/bin/python3';
export const PASSWORD = TEST_PASSWORD;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program and resolves with its exit code and output (never rejects on a non-zero exit). */
export function run(
  file: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        encoding: 'utf8',
        timeout: opts.timeoutMs ?? 60_000,
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env },
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; killed?: boolean }) | null;
        if (e && typeof e.code !== 'number' && !e.killed) return reject(e);
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Runs a Python script (imaplib) with arguments; the script prints JSON lines or text the test parses. */
export function python(script: string, args: (string | number)[] = [], timeoutMs = 60_000): Promise<RunResult> {
  return run(PYTHON, ['-c', script, ...args.map(String)], { timeoutMs });
}

/** Like python() but fails the test with the script's stderr when it exits non-zero. */
export async function pythonOk(script: string, args: (string | number)[] = []): Promise<string> {
  const r = await python(script, args);
  if (r.code !== 0) throw new Error(`python exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** An imapflow client for `user` (not yet connected), closed after the test. */
export function flow(
  t: { after(fn: () => unknown): void },
  port: number,
  user: string,
  opts: Partial<ImapFlowOptions> = {},
): ImapFlow {
  const c = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    auth: { user, pass: PASSWORD },
    logger: false,
    tls: { rejectUnauthorized: false },
    ...opts,
  });
  c.on('error', () => {});
  t.after(() => c.close());
  return c;
}

/** flow(), connected. */
export async function connectedFlow(t: { after(fn: () => unknown): void }, port: number, user = 'bob@example.com') {
  const c = flow(t, port, user);
  await c.connect();
  return c;
}

/**
 * An imapflow `logger` that reports when imapflow's IDLE was acknowledged by the server's "+" (imapflow logs
 * "Initiated IDLE" from its continuation handler): `idleAcknowledged()` resolves at the next such moment. Pass
 * `logger` in the ImapFlow options. A change made before the "+" could be reported on the IDLE's start rather
 * than during it, so tests that want a notification *during* IDLE wait for this.
 */
export function idleWatch(timeoutMs = 10_000) {
  const waiters: (() => void)[] = [];
  const onLog = (o: unknown) => {
    if (typeof (o as { msg?: unknown })?.msg === 'string' && (o as { msg: string }).msg.startsWith('Initiated IDLE'))
      for (const w of waiters.splice(0)) w();
  };
  const logger = { debug: onLog, info: onLog, warn: () => {}, error: () => {}, trace: () => {} };
  const idleAcknowledged = () =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`imapflow's IDLE not acknowledged in ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  return { logger, idleAcknowledged };
}
