// Postfix's smtp-sink (Debian's postfix package) on a free loopback port: a real, fast SMTP server that throws
// the mail away, for the outbound client's tests and benchmark. Started with -c, so its running counters
// ("sess=N quit=N msg=N") on stdout say how many messages it received. Stopped by PID.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Scope } from './daemons.ts';
import { stopByPid } from './daemons.ts';
import { canConnect, freePort } from './ports.ts';
import { waitUntil } from './wait.ts';

export interface SmtpSink {
  port: number;
  pid: number;
  /** Messages received so far (its "msg=" counter). */
  messages(): number;
  /** Everything it printed (counters, and the conversations with -v). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `bin` (the path of smtp-sink) with `args` before the address and `backlog`; `scope` stops it. `port`: a
 * given one (a sink restarted where the previous one listened), else a free one.
 */
export async function startSmtpSink(
  scope: Scope,
  bin: string,
  args: string[] = [],
  backlog = 1024,
  port?: number,
): Promise<SmtpSink> {
  port ??= await freePort();
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn(
    bin,
    ['-c', ...(asRoot ? ['-u', 'nobody'] : []), ...args, `127.0.0.1:${port}`, String(backlog)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
    if (out.length > 1_000_000) out = out.slice(-100_000);
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const stop = () => stopByPid(child);
  scope.after(stop);
  await waitUntil(async () => child.exitCode === null && (await canConnect(port!)), 'smtp-sink to accept', {
    detail: () => `exit ${child.exitCode}; ${out.slice(-1000)}`,
  });
  return {
    port,
    pid: child.pid!,
    messages() {
      const all = [...out.matchAll(/msg=(\d+)/g)];
      return all.length ? Number(all[all.length - 1]![1]) : 0;
    },
    output: () => out,
    stop,
  };
}
