/**
 * Starting real Mailyard servers for tests: in-process (fast, gives access to repositories) or as a child
 * process through the real CLI (for signals, exit codes and first-start output). Every listener binds 127.0.0.1
 * on kernel-chosen free ports; data lives in a throwaway folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { type Config, loadConfig } from '../../src/config/load.ts';
import { type Mailyard, startMailyard } from '../../src/server/app.ts';
import { freePorts } from './ports.ts';
import { tmpDir } from './tmp.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'src/cli/bin.mjs');

type Obj = Record<string, unknown>;

/** A complete config file for tests: loopback, free ports, data under `dir`. `over` is deep-merged on top. */
export interface TestPorts {
  relay: number;
  submission: number;
  smtps: number;
  imap: number;
  imaps: number;
  api: number;
}

export async function testConfigFile(dir: string, over: Obj = {}): Promise<{ file: string; ports: TestPorts }> {
  const [relay, submission, smtps, imap, imaps, api] = await freePorts(6);
  const ports = { relay: relay!, submission: submission!, smtps: smtps!, imap: imap!, imaps: imaps!, api: api! };
  const base: Obj = {
    server: { hostname: 'mail.test.example', bind_address: '127.0.0.1', shutdown_timeout: 5 },
    database: { path: join(dir, 'data/mailserver.db') },
    logger: { level: 'warn', format: 'json', output_path: join(dir, 'mailyard.log') },
    smtp: { relay_port: ports.relay, submission_port: ports.submission, smtps_port: ports.smtps },
    imap: { port: ports.imap, imaps_port: ports.imaps },
    api: { port: ports.api, admin_token: 'test-admin-token' },
    dns: { servers: ['127.0.0.1:53'] },
  };
  const merge = (a: Obj, b: Obj): Obj => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b))
      out[k] =
        v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object'
          ? merge(out[k] as Obj, v as Obj)
          : v;
    return out;
  };
  const file = join(dir, 'mailyard.yaml');
  writeFileSync(file, stringify(merge(base, over)));
  return { file, ports };
}

export async function startTestServer(
  t: { after(fn: () => unknown): void },
  over: Obj = {},
  opts: { now?: () => number; dir?: string; log?: import('pino').Logger } = {},
): Promise<{ app: Mailyard; config: Config; ports: TestPorts; dir: string; api: string }> {
  const dir = opts.dir ?? tmpDir(t);
  const { file, ports } = await testConfigFile(dir, over);
  const { config } = loadConfig({ file, env: {} });
  // Tests leave sockets open when they finish; a short grace keeps teardown fast.
  config.server.shutdown_timeout = 0.2;
  const app = await startMailyard(config, { log: opts.log ?? pino({ level: 'silent' }), now: opts.now });
  t.after(() => app.stop());
  await app.graphqlReady;
  return { app, config, ports, dir, api: `http://127.0.0.1:${ports.api}` };
}

export interface Spawned {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
  t?: { after(fn: () => unknown): void },
): Spawned {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MAILYARD_') && v !== undefined) env[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  t?.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * Waits until /health reports the server fully started (GraphQL loaded too): benchmarks measure steady state.
 * Given the spawned server (and its log file), a server that exits fails at once with what it printed.
 */
export async function waitForReady(
  base: string,
  timeoutMs = 30_000,
  server?: { spawned: Spawned; logFile?: string },
): Promise<void> {
  const start = Date.now();
  const exited = () => {
    if (!server) return;
    const c = server.spawned.child;
    if (c.exitCode === null && c.signalCode === null) return;
    let log = '';
    try {
      log = server.logFile ? readFileSync(server.logFile, 'utf8').slice(-2000) : '';
    } catch {}
    throw new Error(
      `the server exited (${c.exitCode ?? c.signalCode}) before ${base} was ready; stderr: ${server.spawned
        .stderr()
        .slice(-2000)}; log: ${log}`,
    );
  };
  for (;;) {
    exited();
    const { body } = await waitForHealth(base, timeoutMs, exited);
    if (body.graphql === 'ready') return;
    if (body.graphql === 'failed') throw new Error(`${base}: the GraphQL API failed to load`);
    if (Date.now() - start > timeoutMs) throw new Error(`${base} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls GET /health until it answers (any status) or the deadline passes; returns the response and elapsed ms. */
export async function waitForHealth(
  base: string,
  timeoutMs = 10_000,
  giveUp?: () => void,
): Promise<{ res: Response; body: Obj; ms: number }> {
  const start = Date.now();
  for (;;) {
    try {
      const res = await fetch(`${base}/health`);
      return { res, body: (await res.json()) as Obj, ms: Date.now() - start };
    } catch {
      giveUp?.();
      if (Date.now() - start > timeoutMs) throw new Error(`no /health answer from ${base} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
