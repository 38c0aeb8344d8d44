/**
 * A private Dovecot 2.3 (dovecot-imapd) configuration for tests: one passwd-file user, IMAP without TLS on a
 * loopback port, everything (PID file, state, log) under `dir`. Dovecot serves mail only as an unprivileged
 * uid: tests give the mail to MAIL_UID (see tools.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMailUser, MAIL_UID, which } from './tools.ts';

/** Why Dovecot cannot run here, or null if it can. */
export function dovecotMissing(): string | null {
  if (!which('dovecot')) return 'dovecot is not installed (apt-get install dovecot-imapd)';
  if (!ensureMailUser()) return `no system user with uid ${MAIL_UID} and none could be created`;
  return null;
}

/**
 * Writes `<dir>/users` (the user `login` with password `secret` and home `home`) and `<dir>/dovecot.conf`, and
 * returns the config file's path. `mailLocation` is Dovecot's mail_location (e.g. `maildir:~/Maildir`).
 */
export function writeDovecotConf(
  dir: string,
  opts: { port: number; mailLocation: string; login: string; home: string },
): string {
  writeFileSync(join(dir, 'users'), `${opts.login}:{PLAIN}secret:${MAIL_UID}:${MAIL_UID}::${opts.home}::\n`, {
    mode: 0o644,
  });
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `base_dir = ${dir}/run
state_dir = ${dir}/run
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
mail_location = ${opts.mailLocation}
first_valid_uid = ${MAIL_UID}
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/users
}
userdb {
  driver = passwd-file
  args = ${dir}/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${opts.port}
  }
  inet_listener imaps {
    port = 0
  }
}
`,
  );
  return conf;
}
