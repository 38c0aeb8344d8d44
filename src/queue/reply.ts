/**
 * What an outbound attempt learned about one recipient, in the words DSNs and events use. Rules: 2xx delivered,
 * 4xx deferred, 5xx bounced; an enhanced code the server did not give is derived from the basic code (RFC 3463:
 * 2.0.0, 4.0.0, 5.0.0); the text kept is the server's, on one line, at most 1,000 characters.
 */
import type { SmtpReply } from './smtpClient.ts';

export type Verdict = 'delivered' | 'deferred' | 'bounced';

export interface Attempt {
  verdict: Verdict;
  code: number | null;
  /** RFC 3463 status, e.g. 5.1.1. */
  status: string;
  /** The reply (or our explanation) on one line, e.g. "550 5.1.1 no such user". */
  text: string;
  /** Where it came from: the MX host name, or null when no server answered. */
  mx: string | null;
  /** True when this came from a remote server's reply (a DSN's Diagnostic-Code: smtp; ...). */
  remote: boolean;
}

const oneLine = (s: string) =>
  s
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/\p{Cc}/gu, '')
    .slice(0, 1000);

export function fromReply(reply: SmtpReply, mx: string): Attempt {
  const cls = Math.floor(reply.code / 100);
  const verdict: Verdict = cls === 2 ? 'delivered' : cls === 4 ? 'deferred' : 'bounced';
  const status = reply.enhanced ?? `${cls === 2 ? 2 : cls === 4 ? 4 : 5}.0.0`;
  const text = oneLine(reply.lines.length ? reply.lines.join(' ') : reply.text);
  return {
    verdict,
    code: reply.code,
    status,
    text: `${reply.code} ${reply.enhanced && !text.startsWith(reply.enhanced) ? `${reply.enhanced} ` : ''}${text}`,
    mx,
    remote: true,
  };
}

export function local(verdict: Verdict, status: string, text: string, mx: string | null = null): Attempt {
  return { verdict, code: null, status, text: oneLine(text), mx, remote: false };
}
