/**
 * Real IMAP clients for the acceptance tests: imapflow (in process), Python's imaplib and curl, mbsync (child
 * processes). Child processes are always run asynchronously: the server under test lives in this process, so a
 * synchronous child call would block the event loop that has to answer it.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';

/** /usr/bin/python3 explicitly: `python3` on PATH may be a pyenv build. */
export const PYTHON = '/usr/bin/python3';
export const PASSWORD = 'password123';

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

/**
 * A minimal line client whose socket can be upgraded with STARTTLS (RawImap cannot): `lines()` returns what
 * arrived so far, `waitFor(re)` waits until a received line matches.
 */
export class UpgradableImap {
  received: string[] = [];
  private partial = '';
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      this.partial += d.toString('latin1');
      const parts = this.partial.split('\r\n');
      this.partial = parts.pop()!;
      this.received.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<UpgradableImap> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new UpgradableImap(socket);
    await c.waitFor(/^\* OK/);
    return c;
  }

  write(s: string): void {
    this.socket.write(s);
  }

  async waitFor(re: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find((l) => re.test(l));
      if (hit) return hit;
      if (this.closed) throw new Error(`closed before ${re}; got ${JSON.stringify(this.received)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${re}; got ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Starts TLS on the same socket; returns the TLS socket's protocol. Lines received so far are kept. */
  async startTls(): Promise<string> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.partial = '';
    this.attach(secure);
    return secure.getProtocol() ?? '';
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Waits until `check()` is truthy (polling), or fails with `what`. */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
