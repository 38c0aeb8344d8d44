// Finding Debian-packaged peers (.ci/run installs them). A test that needs a missing one is skipped, visibly, on a
// developer's machine, and fails under CI (see unavailable()).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export function which(bin: string): string | null {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'])
    if (existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** True when the CI environment variable is set (to anything but "", "0" or "false"), as CI services and .ci/run do. */
export const IN_CI = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());

/**
 * Something a test needs is not there (`why` says what and how to get it). Under CI this throws, so the test
 * fails: .ci/run installs every tool the tests use, so a missing one there means the check silently never ran.
 * Elsewhere the test is skipped, visibly, with the reason. Callers return right after it.
 *
 * Which conditions go through here (judged one by one):
 *  - a missing program (swaks, curl, smtp-source, mbsync, dovecot) or the mail user Dovecot needs: yes, through
 *    needTool() / dovecotMissing();
 *  - a tmpfs that cannot be mounted: yes when running as root (CI runs as root, since .ci/run installs packages;
 *    a failing mount as root is a broken environment); as another user the mount cannot work, so it skips
 *    (pass failUnderCi = false);
 *  - NOT a Node-version feature (module.registerHooks on Node 20): that is a property of the runtime being
 *    tested, CI runs both Node 20 and Node 24 on purpose, so those tests call t.skip() directly;
 *  - NOT a busy default port (test/cli/run.test.ts): another process on a shared machine owns it; the test
 *    cannot make it free, so it calls t.skip() directly.
 */
export function unavailable(t: TestContext, why: string, failUnderCi = true): void {
  if (IN_CI && failUnderCi) throw new Error(`${why}; CI is set, so this fails instead of skipping`);
  t.skip(why);
}

/**
 * The path of program `bin`, or null after unavailable() (skip; under CI the call throws): `pkg` is the Debian
 * package that provides it. Use: `const swaks = needTool(t, 'swaks', 'swaks'); if (!swaks) return;`
 */
export function needTool(t: TestContext, bin: string, pkg: string): string | null {
  const path = which(bin);
  if (!path) unavailable(t, `${bin} is not installed (apt-get install ${pkg})`);
  return path;
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
