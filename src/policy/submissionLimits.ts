/**
 * The rate limits of authenticated submission: failed AUTH attempts per client address (ratelimit_auth_per_ip)
 * and messages per user (ratelimit_smtp_per_user), each read from a domain row on every call (an edited rule or
 * ratelimit_enabled applies to the next check). Rules: the counters are the only state, behind the Counters
 * interface (counters.ts), on keys of their own (`auth_per_ip:<domain>:<ip>`, `submission_per_user:<domain>:<user>`,
 * lower-cased), so the MX's rules never share a count with them; a domain with ratelimit_enabled off is never
 * limited.
 * - AUTH: only failures count. Before the password is checked, authBlocked() asks whether the address has used
 *   up the rule of the attempted username's domain (the caller falls back to the `_default` template row for an
 *   unknown domain) without counting anything: it takes with a limit of 0, which Counters refuses without counting
 *   and answers with the current estimate. With {count: 10}, ten failures get 535 and the eleventh attempt (even
 *   with the right password) gets 454 until the sliding window lets one through again. The key is per domain, as
 *   every rule of rateLimits.ts is: an address guessing in two domains is counted in each.
 * - Messages: one event per transaction, counted at MAIL FROM (a transaction the client abandons after MAIL still
 *   counts; a refused one does not). Over the limit is a tempfail with reason rate_limit_exceeded.
 */
import type { DomainRow } from '../repos/rows.ts';
import type { Counters } from './counters.ts';
import type { CheckResult } from './verdict.ts';

export type AuthLimitSettings = Pick<DomainRow, 'name' | 'ratelimit_enabled' | 'ratelimit_auth_per_ip'>;
export type UserLimitSettings = Pick<DomainRow, 'name' | 'ratelimit_enabled' | 'ratelimit_smtp_per_user'>;

export interface SubmissionLimits {
  /** Whether `ip` has no failed attempt left under the domain's rule (nothing is counted). */
  authBlocked(ip: string, domain: AuthLimitSettings): Promise<{ blocked: boolean; failures: number }>;
  /** Counts one failed attempt of `ip` against the domain's rule. */
  authFailed(ip: string, domain: AuthLimitSettings): Promise<void>;
  /** Counts one message of `user` against the domain's rule: null when allowed, else the tempfail. */
  message(user: string, domain: UserLimitSettings): Promise<CheckResult | null>;
}

export function createSubmissionLimits(opts: { counters: Counters; now?: () => number }): SubmissionLimits {
  const { counters, now = Date.now } = opts;
  const authKey = (ip: string, d: AuthLimitSettings) => `auth_per_ip:${d.name.toLowerCase()}:${ip.toLowerCase()}`;
  return {
    async authBlocked(ip, domain) {
      if (!domain.ratelimit_enabled) return { blocked: false, failures: 0 };
      const rule = domain.ratelimit_auth_per_ip;
      const r = await counters.take(authKey(ip, domain), 0, rule.window_minutes * 60_000, now());
      return { blocked: r.count >= rule.count, failures: r.count };
    },
    async authFailed(ip, domain) {
      if (!domain.ratelimit_enabled) return;
      const rule = domain.ratelimit_auth_per_ip;
      await counters.take(authKey(ip, domain), rule.count, rule.window_minutes * 60_000, now());
    },
    async message(user, domain) {
      if (!domain.ratelimit_enabled) return null;
      const rule = domain.ratelimit_smtp_per_user;
      const subject = user.toLowerCase();
      const key = `submission_per_user:${domain.name.toLowerCase()}:${subject}`;
      const r = await counters.take(key, rule.count, rule.window_minutes * 60_000, now());
      if (r.allowed) return null;
      const retryAfterS = Math.ceil(r.retryAfterMs / 1000);
      return {
        check: 'ratelimit',
        action: 'tempfail',
        reason: 'rate_limit_exceeded',
        text: `Rate limit exceeded, try again in ${retryAfterS} seconds`,
        detail: {
          rule: 'smtp_per_user',
          subject,
          limit: rule.count,
          window_minutes: rule.window_minutes,
          retry_after_s: retryAfterS,
        },
      };
    },
  };
}
