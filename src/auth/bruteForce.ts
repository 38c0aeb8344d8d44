/**
 * The brute-force guard of every password login (login.ts calls it for IMAP LOGIN/AUTHENTICATE and SMTP AUTH).
 * Rules:
 * - The settings are the auth_* columns of the attempted user's domain; for an unknown user, the `_default`
 *   template's (the caller passes the row).
 * - Failures are counted in sliding windows of auth_brute_force_window_minutes through Counters (counters.ts),
 *   per client IP (`bf_ip:<ip>`) and per existing account (`bf_account:<address>`). When a failure brings the IP's
 *   count to auth_brute_force_threshold, the IP is blocked for auth_brute_force_block_minutes; when it brings the
 *   account's count there while the IP's count is below it (failures from many IPs), the account is blocked
 *   instead (blocked_ips row `account:<address>`). Blocks are rows of blocked_ips, so they survive a restart and
 *   expire by their blocked_until.
 * - An attempt from a blocked IP or on a blocked account is refused before anything is decided (the caller still
 *   verifies the password, so the answer takes as long as a wrong password's), and is not counted: a refused
 *   attempt never lengthens a block. A block lifted through the API (a `blockedIp.changed` deletion) also forgets
 *   the counts of that IP or account, so the next failure starts from zero.
 * - Manual entries (kind `manual`) refuse while the domain's auth_ip_blacklist_enabled is on; automatic ones (and
 *   account blocks) while auth_brute_force_enabled is on. An allow-listed IP (kind `allow`) is never refused,
 *   counted or blocked. Loopback gets no exception.
 * - Record: failures are log lines only (the caller's `authentication failed`; one per attempt, no database
 *   write, so an attack cannot grow a table); each block is an audit entry (actor `system:brute-force`, action
 *   `auth.block`, target type `ip` or `account`) and a `auth blocked` warn log line.
 * - cleanup() deletes expired rows; startCleanup() runs it (and the other auth clean-ups it is given: expired
 *   sessions) every auth_cleanup_interval seconds of the `_default` template (read at each run). The failure
 *   counters expire by themselves (counters.ts: sliding windows).
 */
import type { EventBus } from '../events/bus.ts';
import type { Logger } from '../log/logger.ts';
import { unmapIpv4 } from '../net/networks.ts';
import type { Counters } from '../policy/counters.ts';
import type { Repos } from '../repos/index.ts';
import type { DomainRow } from '../repos/rows.ts';

export type GuardSettings = Pick<
  DomainRow,
  | 'auth_brute_force_enabled'
  | 'auth_brute_force_threshold'
  | 'auth_brute_force_window_minutes'
  | 'auth_brute_force_block_minutes'
  | 'auth_ip_blacklist_enabled'
>;

export type GuardVerdict = 'ok' | 'allowed' | 'blocked';

export interface BruteForceGuard {
  /** Before the password counts: `blocked` (refuse), `allowed` (allow-listed: never counted), or `ok`. */
  check(ip: string, account: string | undefined, rules: GuardSettings): GuardVerdict;
  /** Counts one failed attempt (not for `blocked` or `allowed` verdicts); may block the IP or the account. */
  failed(ip: string, account: string | undefined, rules: GuardSettings): Promise<void>;
  /** Deletes expired blocks; returns how many. */
  cleanup(): number;
  /**
   * Runs cleanup() and each of `also` (e.g. expired API sessions) every auth_cleanup_interval seconds (of
   * `_default`); returns the stop function.
   */
  startCleanup(also?: { name: string; run: () => number }[]): () => void;
}

export const ACCOUNT_PREFIX = 'account:';

/** The stored form of a client address (an IPv4-mapped IPv6 address as IPv4, lower case). */
export const ipKey = (ip: string) => unmapIpv4(ip.trim()).toLowerCase();

export function createBruteForceGuard(opts: {
  repos: Pick<Repos, 'blockedIps' | 'audit' | 'domains'>;
  counters: Counters;
  bus: EventBus;
  log: Logger;
  now?: () => number;
}): BruteForceGuard {
  const { repos, counters, log, now = Date.now } = opts;
  // A lifted block starts its subject's counting anew: counts live under a generation bumped on deletion.
  const generation = new Map<string, number>();
  opts.bus.subscribe('blockedIp.changed', ({ ip, action }) => {
    if (action === 'deleted') generation.set(ip, (generation.get(ip) ?? 0) + 1);
  });
  const counterKey = (kind: string, subject: string) => `bf_${kind}:${subject}#${generation.get(subject) ?? 0}`;

  const block = (subject: string, targetType: 'ip' | 'account', failures: number, rules: GuardSettings) => {
    const t = now();
    const reason = `${failures} failed logins in ${rules.auth_brute_force_window_minutes} minutes`;
    repos.blockedIps.set(
      { ip: subject, kind: 'auto', reason, until: t + rules.auth_brute_force_block_minutes * 60_000 },
      t,
    );
    const target = targetType === 'ip' ? subject : subject.slice(ACCOUNT_PREFIX.length);
    repos.audit.record('system:brute-force', 'auth.block', targetType, target, {
      reason,
      minutes: rules.auth_brute_force_block_minutes,
    });
    log.warn({ [targetType]: target, failures, minutes: rules.auth_brute_force_block_minutes }, 'auth blocked');
  };

  const guard: BruteForceGuard = {
    check(ip, account, rules) {
      const t = now();
      const entry = repos.blockedIps.get(ipKey(ip), t);
      if (entry?.kind === 'allow') return 'allowed';
      if (entry?.kind === 'manual' && rules.auth_ip_blacklist_enabled) return 'blocked';
      if (entry?.kind === 'auto' && rules.auth_brute_force_enabled) return 'blocked';
      if (account && rules.auth_brute_force_enabled && repos.blockedIps.get(ACCOUNT_PREFIX + account, t))
        return 'blocked';
      return 'ok';
    },

    async failed(ip, account, rules) {
      if (!rules.auth_brute_force_enabled) return;
      const threshold = Math.max(1, rules.auth_brute_force_threshold);
      const windowMs = Math.max(1, rules.auth_brute_force_window_minutes) * 60_000;
      const t = now();
      const subject = ipKey(ip);
      const byIp = await counters.take(counterKey('ip', subject), Number.POSITIVE_INFINITY, windowMs, t);
      const byAccount = account
        ? await counters.take(counterKey('account', ACCOUNT_PREFIX + account), Number.POSITIVE_INFINITY, windowMs, t)
        : undefined;
      if (byIp.count >= threshold) block(subject, 'ip', byIp.count, rules);
      else if (byAccount && byAccount.count >= threshold)
        block(ACCOUNT_PREFIX + account, 'account', byAccount.count, rules);
    },

    cleanup() {
      return repos.blockedIps.cleanup(now());
    },

    startCleanup(also = []) {
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      const schedule = () => {
        if (stopped) return;
        const seconds = Math.max(1, repos.domains.template().auth_cleanup_interval);
        timer = setTimeout(run, seconds * 1000);
        timer.unref();
      };
      const run = () => {
        for (const job of [{ name: 'auth blocks', run: () => guard.cleanup() }, ...also]) {
          try {
            const removed = job.run();
            if (removed) log.info({ removed }, `expired ${job.name} removed`);
          } catch (err) {
            log.warn({ err }, `${job.name} cleanup failed`);
          }
        }
        schedule();
      };
      run();
      return () => {
        stopped = true;
        clearTimeout(timer);
      };
    },
  };
  return guard;
}
