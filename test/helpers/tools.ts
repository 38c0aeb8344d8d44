// Finding Debian-packaged peers (.ci/run installs them). A test that needs a missing one is skipped, visibly.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function which(bin: string): string | null {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'])
    if (existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Dovecot and Postfix refuse to handle mail as root: tests and the benchmark give mail to this uid. */
export const MAIL_UID = 5000;

/** Makes sure a system user with MAIL_UID exists (creating one when running as root); false if impossible. */
export function ensureMailUser(): boolean {
  try {
    execFileSync('getent', ['passwd', String(MAIL_UID)]);
    return true;
  } catch {
    try {
      execFileSync('useradd', [
        '-r',
        '-u',
        String(MAIL_UID),
        '-M',
        '-d',
        '/nonexistent',
        '-s',
        '/usr/sbin/nologin',
        'mailyard-test',
      ]);
      return true;
    } catch {
      return false;
    }
  }
}
