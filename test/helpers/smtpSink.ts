// Postfix's smtp-sink as a remote MX that counts: started on a free 127.0.0.1 port as a child process (stopped by
// PID), dumping every transaction it accepts into its own file (-d) with the envelope as X-Mail-Args /
// X-Rcpt-Args lines, so a test can count what arrived, per message and per recipient.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { stopByPid } from './daemons.ts';
import { canConnect, freePort } from './ports.ts';
import { tmpDir } from './tmp.ts';
import { needTool } from './tools.ts';
import { waitUntil } from './wait.ts';

export interface SmtpSink {
  port: number;
  dir: string;
  child: ChildProcess;
  /** Transactions dumped so far (file names). */
  count(): number;
  /** Every dumped transaction: its envelope recipients and its text. */
  read(): { rcpts: string[]; text: string }[];
  stop(): Promise<void>;
}

export async function startSmtpSink(t: TestContext, opts: { port?: number } = {}): Promise<SmtpSink | null> {
  const bin = needTool(t, 'smtp-sink', 'postfix');
  if (!bin) return null;
  const dir = tmpDir(t);
  const port = opts.port ?? (await freePort());
  // -u root: keep root (the dump folder is ours); -c: count; backlog 256.
  const child = spawn(bin, ['-u', 'root', '-d', join(dir, '%H%M%S.'), `127.0.0.1:${port}`, '256'], {
    stdio: 'ignore',
  });
  const sink: SmtpSink = {
    port,
    dir,
    child,
    count: () => readdirSync(dir).length,
    read: () =>
      readdirSync(dir).map((f) => {
        const text = readFileSync(join(dir, f), 'latin1');
        const rcpts = [...text.matchAll(/^X-Rcpt-Args: <([^>]*)>/gm)].map((m) => m[1]!);
        return { rcpts, text };
      }),
    stop: () => stopByPid(child),
  };
  t.after(() => sink.stop());
  await waitUntil(() => canConnect(port), `smtp-sink on port ${port}`);
  return sink;
}
