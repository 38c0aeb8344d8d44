/**
 * A private Postfix instance for the benchmarks (the peer they measure against): its own config, queue and data
 * folders under `dir`, smtpd on 127.0.0.1:`port`, no chroot, relaying for 127.0.0.0/8, logging to `dir`/maillog.
 * `main` adds or overrides main.cf lines for the benchmark at hand. Needs root and the postfix package.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writePostfixInstance(dir: string, port: number, main: string): void {
  for (const d of ['etc', 'queue', 'data']) mkdirSync(join(dir, d), { recursive: true });
  execFileSync('chown', ['postfix', join(dir, 'data')]);
  writeFileSync(
    join(dir, 'etc/main.cf'),
    `compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.postfix.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file_prefixes = ${dir}
maillog_file = ${dir}/maillog
default_process_limit = 100
in_flow_delay = 0
smtpd_client_connection_count_limit = 0
smtpd_peername_lookup = no
${main}`,
  );
  const master = readFileSync('/etc/postfix/master.cf', 'utf8')
    .split('\n')
    .map((line) => {
      const f = line.split(/\s+/);
      if (line.startsWith('#') || f.length < 8) return line;
      if (f[0] === 'smtp' && f[1] === 'inet') return `127.0.0.1:${port} inet n - n - - smtpd`;
      if (f[4] === 'y') f[4] = 'n'; // no chroot for this private instance
      return f.join(' ');
    })
    .join('\n');
  writeFileSync(join(dir, 'etc/master.cf'), master);
  execFileSync('postfix', ['-c', join(dir, 'etc'), 'post-install', 'create-missing'], { stdio: 'ignore' });
}
