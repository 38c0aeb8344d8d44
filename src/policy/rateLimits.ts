/**
 * The SMTP rate limits of a recipient domain (gomailserver's ratelimit_smtp_per_ip / _per_user / _per_domain).
 * Rules: the rule is read from the domain row on every call, so an edited {count, window_minutes} (or
 * ratelimit_enabled) applies to the next check; each recipient domain's rule counts on its own key
 * `<kind>:<recipient domain>:<subject>` (subjects are lower-cased: IPs, addresses, domains); a refused event is
 * not counted (counters.ts); over the limit is a tempfail with reason rate_limit_exceeded (the SMTP layer picks
 * the reply, smtp/replies.ts). The counters are the only state, behind the Counters interface.
 */
import type { DomainRow } from '../repos/rows.ts';
import type { Counters } from './counters.ts';
import type { CheckResult } from './verdict.ts';

export type RateLimitKind = 'smtp_per_ip' | 'smtp_per_user' | 'smtp_per_domain';

/** The columns a check reads (a DomainRow has them all). */
export type RateLimitSettings = Pick<
  DomainRow,
  'name' | 'ratelimit_enabled' | 'ratelimit_smtp_per_ip' | 'ratelimit_smtp_per_user' | 'ratelimit_smtp_per_domain'
>;

export interface RateLimiter {
  /** Counts one event of `subject` against the domain's `kind` rule: null when allowed (or no limit applies). */
  check(kind: RateLimitKind, subject: string, domain: RateLimitSettings): Promise<CheckResult | null>;
}

export function createRateLimiter(opts: { counters: Counters; now?: () => number }): RateLimiter {
  const { counters, now = Date.now } = opts;
  return {
    async check(kind, subject, domain) {
      if (!domain.ratelimit_enabled) return null;
      const rule = domain[`ratelimit_${kind}`];
      const s = subject.toLowerCase();
      const key = `${kind}:${domain.name.toLowerCase()}:${s}`;
      const r = await counters.take(key, rule.count, rule.window_minutes * 60_000, now());
      if (r.allowed) return null;
      const retryAfterS = Math.ceil(r.retryAfterMs / 1000);
      return {
        check: 'ratelimit',
        action: 'tempfail',
        reason: 'rate_limit_exceeded',
        text: `Rate limit exceeded, try again in ${retryAfterS} seconds`,
        detail: {
          rule: kind,
          subject: s,
          limit: rule.count,
          window_minutes: rule.window_minutes,
          retry_after_s: retryAfterS,
        },
      };
    },
  };
}
