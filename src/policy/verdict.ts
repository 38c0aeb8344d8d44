/**
 * What a policy check concludes, and how several conclusions become one verdict.
 * Rules: every check returns a CheckResult naming itself, an action and a reason word (the guide's greppable
 * words: rate_limit_exceeded, greylisted, spf_fail, dkim_fail, dmarc_reject, virus_detected, spam, ...); the
 * pipeline keeps the strongest action (reject > tempfail > quarantine > tag > accept; the first of equals wins);
 * header lines a check wants on the delivered message (Authentication-Results, X-Spam-Status, ...) travel with
 * the result and are added whatever the verdict. The SMTP reply for a verdict is chosen in one place only:
 * smtp/replies.ts (verdictReply).
 */

export type CheckName = 'ratelimit' | 'greylist' | 'spf' | 'dkim' | 'dmarc' | 'arc' | 'clamav' | 'spam';

/** accept: nothing to say; tag: deliver with headers; quarantine: deliver to Junk; tempfail: 4xx; reject: 5xx. */
export type Action = 'accept' | 'tag' | 'quarantine' | 'tempfail' | 'reject';

export interface CheckResult {
  check: CheckName;
  action: Action;
  /** A short word for logs, events and the reply (e.g. "virus_detected", "spf_fail"). */
  reason: string;
  /** Shown to the client in a refusal (e.g. the virus signature, the SPF explanation). */
  text?: string;
  /** Facts for the delivery event and the log line (score, signature, domain, result...). */
  detail?: Record<string, unknown>;
  /** Header lines (without CRLF) to prepend to the delivered message. */
  headers?: string[];
}

const RANK: Record<Action, number> = { accept: 0, tag: 1, quarantine: 2, tempfail: 3, reject: 4 };

export interface Verdict {
  action: Action;
  /** The result that decided the action (absent when everything accepted). */
  decisive: CheckResult | null;
  results: CheckResult[];
  headers: string[];
}

/** One verdict from the results of the checks that ran, in pipeline order. */
export function combine(results: CheckResult[]): Verdict {
  let decisive: CheckResult | null = null;
  for (const r of results)
    if (r.action !== 'accept' && (!decisive || RANK[r.action] > RANK[decisive.action])) decisive = r;
  return {
    action: decisive?.action ?? 'accept',
    decisive,
    results,
    headers: results.flatMap((r) => r.headers ?? []),
  };
}

export const stronger = (a: Action, b: Action): Action => (RANK[a] >= RANK[b] ? a : b);
