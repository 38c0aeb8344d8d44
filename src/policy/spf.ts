/**
 * SPF (RFC 7208) for one SMTP transaction, callable at MAIL FROM or RCPT time, before DATA.
 * Rules: the identity is the MAIL FROM address, or postmaster@<HELO name> for the null sender (RFC 7208 2.4);
 * an address literal in HELO is checked in its bracket form; lookups go through the project's resolver
 * (mailauthResolver.ts) and are limited to the recipient domain's spf_max_lookups (RFC 7208 4.6.4: beyond it,
 * permerror) and to 2 void lookups; the whole evaluation is bounded in time (temperror when exceeded); the result
 * is one of pass, fail, softfail, neutral, none, temperror, permerror, with mailauth's comment, the domain's
 * explanation (exp=, only on fail; third-party text) and the Authentication-Results fragment (spf=...).
 */
import { isIP } from 'node:net';
import { spf } from 'mailauth';
import type { Resolver } from '../dns/resolver.ts';
import { mailauthResolver } from './mailauthResolver.ts';

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror';

export interface SpfOutcome {
  result: SpfResult;
  /** The domain whose policy was evaluated (the MAIL FROM domain, or the HELO name for the null sender). */
  domain: string;
  /** Which identity was checked. */
  identity: 'mailfrom' | 'helo';
  /** mailauth's comment: why (e.g. "mx.example: domain of a@b designates 1.2.3.4 as permitted sender"). */
  comment: string;
  /** The sender domain's exp= text, on fail only (third-party text: quote it, never trust it). */
  explanation?: string;
  /** The Authentication-Results method fragment, e.g. `spf=pass (...) smtp.mailfrom=a@b`. */
  info: string;
  /** The Received-SPF header line (RFC 7208 9.1), without CRLF. */
  receivedSpf: string;
  /** DNS-querying mechanisms used, and the limit they were held to. */
  lookups?: { count: number; limit: number; void: number };
}

export interface SpfInput {
  resolver: Resolver;
  /** The client's address. */
  ip: string;
  /** The EHLO/HELO argument. */
  helo: string;
  /** The MAIL FROM address; "" for the null sender. */
  sender: string;
  /** Our name (config server.hostname), used in comments. */
  hostname: string;
  /** The recipient domain's spf_max_lookups (RFC 7208 default 10). */
  maxLookups?: number;
  /** A bound on the whole evaluation (RFC 7208 4.6.4 suggests at least 20 s). */
  timeoutMs?: number;
}

const RESULTS = new Set<string>(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror']);

/** The HELO name as mailauth wants it: an address literal in brackets. */
export const heloForSpf = (helo: string): string => (helo && isIP(helo) ? `[${helo}]` : helo);

export async function checkSpf(input: SpfInput): Promise<SpfOutcome> {
  const r = await spf({
    resolver: mailauthResolver(input.resolver),
    ip: input.ip,
    helo: heloForSpf(input.helo) || undefined,
    sender: input.sender || undefined,
    mta: input.hostname,
    maxResolveCount: Math.max(1, input.maxLookups ?? 10),
    maxVoidCount: 2,
    maxElapsedTime: input.timeoutMs ?? 20_000,
  });
  const result = RESULTS.has(r.status.result) ? (r.status.result as SpfResult) : 'temperror';
  return {
    result,
    domain: r.domain,
    identity: input.sender ? 'mailfrom' : 'helo',
    comment: r.status.comment ?? '',
    ...(r.explanation ? { explanation: r.explanation } : {}),
    info: r.info,
    receivedSpf: r.header,
    ...(r.lookups ? { lookups: { count: r.lookups.count, limit: r.lookups.limit, void: r.lookups.void } } : {}),
  };
}
