/**
 * The antispam check: the spooled message scored by spamd (spamd.ts), judged by the recipient domain's settings.
 * Rules: score >= `spam_reject_score` -> reject (550 5.7.1); >= `spam_quarantine_score` -> quarantine (Junk,
 * with X-Spam-Status / X-Spam-Score headers); below -> delivered with the same headers; spamd down or
 * timing out -> delivered (accept) with a warning log line and `unscanned` on the delivery event, never refused:
 * a broken filter must not stop mail; a message over SPAM_MAX_SIZE is not scanned (as spamc's default).
 */
import type { DomainRow } from '../repos/rows.ts';
import type { Spamd } from './spamd.ts';
import { spamHeaders } from './spamHeaders.ts';
import type { CheckResult } from './verdict.ts';

/** Like spamc's default (-s 500 KB): bigger messages are not sent to spamd (spam is small; scoring a big one is slow). */
export const SPAM_MAX_SIZE = 512 * 1024;

export function createAntispam(spamd: Pick<Spamd, 'checkFile'>) {
  return {
    async check(path: string, domain: DomainRow, size: number): Promise<CheckResult | null> {
      if (size > SPAM_MAX_SIZE)
        return { check: 'spam', action: 'accept', reason: 'too_large', detail: { size, unscanned: true } };
      const r = await spamd.checkFile(path);
      if (r.status !== 'ok')
        return {
          check: 'spam',
          action: 'accept',
          reason: 'scanner_unavailable',
          detail: { error: r.error, unscanned: true },
        };
      const detail = { score: r.score, required: domain.spam_quarantine_score, symbols: r.symbols.slice(0, 20) };
      const headers = spamHeaders(r, domain.spam_quarantine_score);
      if (r.score >= domain.spam_reject_score)
        return { check: 'spam', action: 'reject', reason: 'spam', detail, headers };
      if (r.score >= domain.spam_quarantine_score)
        return { check: 'spam', action: 'quarantine', reason: 'spam', detail, headers };
      return { check: 'spam', action: 'accept', reason: 'ham', detail, headers };
    },
  };
}
