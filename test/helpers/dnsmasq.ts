// A real DNS server on loopback for tests: dnsmasq (Debian's dnsmasq-base, which .ci/run installs) answering only
// the records a test gives it, on a free port (UDP and TCP), never forwarding anywhere (no-resolv), logging every
// query it receives so a test can count them. Started per test, stopped by PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { canConnect, freePort } from './ports.ts';
import { tmpDir } from './tmp.ts';
import { needTool } from './tools.ts';
import { waitUntil } from './wait.ts';

export interface Dnsmasq {
  /** "127.0.0.1:port", for dns.servers. */
  server: string;
  port: number;
  /** How many queries for `name` (of `type`, if given) dnsmasq has received so far. */
  queries(name: string, type?: string): number;
}

/** Starts dnsmasq with `records` (dnsmasq.conf lines such as `txt-record=a.test,"v=spf1 -all"`); null if missing. */
export async function startDnsmasq(
  t: TestContext,
  records: string[],
  ttl = 60,
  /** A port chosen beforehand (a server configured with it before its records were known); default: a free one. */
  givenPort?: number,
): Promise<Dnsmasq | null> {
  const bin = needTool(t, 'dnsmasq', 'dnsmasq-base');
  if (!bin) return null;
  const dir = tmpDir(t);
  const port = givenPort ?? (await freePort());
  const log = join(dir, 'queries.log');
  const conf = join(dir, 'dnsmasq.conf');
  writeFileSync(
    conf,
    [
      `port=${port}`,
      'listen-address=127.0.0.1',
      'bind-interfaces',
      'no-resolv',
      'no-hosts',
      'no-poll',
      'user=root',
      `local-ttl=${ttl}`,
      `neg-ttl=${ttl}`,
      'log-queries',
      `log-facility=${log}`,
      ...records,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(bin, ['-k', '-C', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  await waitUntil(() => child.exitCode === null && canConnect(port), 'dnsmasq to accept TCP', {
    detail: () => `exit ${child.exitCode}; ${stderr}`,
  });
  return {
    server: `127.0.0.1:${port}`,
    port,
    queries(name, type) {
      if (!existsSync(log)) return 0;
      const re = new RegExp(`query\\[${type ?? '[A-Z]+'}\\] ${name.replace(/\./g, '\\.')} from`, 'i');
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => re.test(l)).length;
    },
  };
}
