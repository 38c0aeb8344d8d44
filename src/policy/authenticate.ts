/**
 * Message authentication at the end of DATA: DKIM (RFC 6376), ARC (RFC 8617) and DMARC (RFC 7489 / DMARCbis) on
 * the spooled message, with the SPF outcome of the transaction (spf.ts), and the Authentication-Results line.
 * Rules: a spool file up to 256 KiB (spool.ts's in-memory size) is read in one synchronous read (it was just
 * written, so it is in the page cache: ~20 us, where a stream's four thread-pool round trips cost ~0.3-0.9 ms of
 * CPU on this VM), a larger one is streamed (mailauth keeps only the header section in memory, the body goes
 * through its hashers chunk by chunk); a Buffer or stream is taken as it is; SPF is not evaluated again when the transaction's outcome is
 * given (mailauth's authenticate() always re-runs it, so its parts are called here instead: dkimVerify, arc,
 * evaluateDmarc, the same sequence authenticate() runs); every lookup goes through the project's resolver; BIMI
 * is never evaluated (it fetches over HTTPS) and nothing is sealed; DMARC reports the policy the author domain
 * (RFC5322.From) publishes after sp=/np=/t=y (policy), whether it passed and which identifier aligned; results
 * are mailauth's, unchanged, under `raw`.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { type ARCResult, arc, type DKIMVerifyResult, type DMARCResult, dkimVerify } from 'mailauth';
import { evaluateDmarc } from 'mailauth/lib/dmarc/index.js';
import type { Resolver } from '../dns/resolver.ts';
import { formatAuthResults } from './authResults.ts';
import { mailauthResolver } from './mailauthResolver.ts';
import { checkSpf, type SpfOutcome } from './spf.ts';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface DkimSignatureOutcome {
  /** pass, fail, neutral (mailauth's lenient mode: also a body hash mismatch), policy, temperror, permerror. */
  result: string;
  /** d= and s= of the signature. */
  domain: string;
  selector: string;
  comment?: string;
}

export interface DmarcOutcome {
  /** pass, fail, none (no record), temperror, permerror. */
  result: string;
  /** The author domain (RFC5322.From). */
  domain: string;
  /** The policy that applies to this message (p=, or sp=/np= for a subdomain, one level lower with t=y); null without a usable record. */
  policy: DmarcPolicy | null;
  /** The record's p= as published. */
  published: DmarcPolicy | null;
  passed: boolean;
  /** The aligned identifiers, if any. */
  aligned: { spf?: string; dkim?: string };
}

export interface AuthOutcome {
  spf: SpfOutcome;
  /** One per DKIM-Signature; empty for an unsigned message. */
  dkim: DkimSignatureOutcome[];
  /** none when the message has no ARC set. */
  arc: { result: string; instance: number | null };
  /** null when DMARC could not be evaluated (no or several author domains: dmarcSkipReason says which). */
  dmarc: DmarcOutcome | null;
  dmarcSkipReason?: string;
  /** The Authentication-Results header line (RFC 8601), folded, without the final CRLF. */
  authResults: string;
  raw: { dkim: DKIMVerifyResult; arc: ARCResult | false; dmarc: DMARCResult | false };
}

export interface VerifyInput {
  resolver: Resolver;
  ip: string;
  helo: string;
  /** MAIL FROM; "" for the null sender. */
  sender: string;
  /** config server.hostname: the authserv-id. */
  hostname: string;
  /** The transaction's SPF outcome (from checkSpf at MAIL/RCPT time); evaluated here if absent. */
  spf?: SpfOutcome | null;
  /** Used when SPF is evaluated here. */
  maxLookups?: number;
  /** Smallest accepted RSA key (default 1024, RFC 8301). */
  minBitLength?: number;
}

const POLICIES = new Set(['none', 'quarantine', 'reject']);
const asPolicy = (p: unknown): DmarcPolicy | null =>
  typeof p === 'string' && POLICIES.has(p) ? (p as DmarcPolicy) : null;

/** Files up to this size are read whole (see the rules above). */
export const READ_WHOLE_MAX = 256 * 1024;

/** The spool file's bytes when it is small, else a stream of it. */
function openMessage(path: string): Buffer | Readable {
  const fd = openSync(path, 'r');
  let streaming = false;
  try {
    const size = fstatSync(fd).size;
    if (size > READ_WHOLE_MAX) {
      streaming = true;
      return createReadStream('', { fd, highWaterMark: 64 * 1024 });
    }
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    if (!streaming) closeSync(fd);
  }
}

/** Authenticates a message: a spool file path, its bytes, or a stream of it. */
export async function verifyMessage(message: string | Buffer | Readable, input: VerifyInput): Promise<AuthOutcome> {
  const resolver = mailauthResolver(input.resolver);
  const source = typeof message === 'string' ? openMessage(message) : message;
  let dkim: DKIMVerifyResult;
  try {
    dkim = await dkimVerify(source, {
      resolver,
      sender: input.sender || undefined,
      minBitLength: input.minBitLength,
    });
  } finally {
    // A stream of our own is closed even when verification threw half-way.
    if (typeof message === 'string' && !Buffer.isBuffer(source)) source.destroy();
  }

  const spfOutcome =
    input.spf ??
    (await checkSpf({
      resolver: input.resolver,
      ip: input.ip,
      helo: input.helo,
      sender: input.sender,
      hostname: input.hostname,
      maxLookups: input.maxLookups,
    }));

  const arcResult = await arc(dkim.arc as Parameters<typeof arc>[0], {
    resolver,
    minBitLength: input.minBitLength,
    ip: input.ip,
  });

  let dmarcResult: DMARCResult | false = false;
  let dmarcSkipReason: string | undefined;
  if (dkim.headerFrom) {
    const e = await evaluateDmarc({
      headerFrom: dkim.headerFrom,
      fromFields: dkim.fromFields,
      // As authenticate() does: the checked identity (for the null sender, the HELO name, RFC 7208 2.4).
      spfDomains: spfOutcome.result === 'pass' ? [spfOutcome.domain] : [],
      dkimDomains: dkim.results
        .filter((r) => r.status.result === 'pass' && r.signingDomain)
        .map((r) => ({
          id: r.id,
          domain: r.signingDomain!,
          aligned: r.status.aligned,
          underSized: r.status.underSized,
        })),
      arcResult,
      resolver,
    });
    dmarcResult = e.response;
    dmarcSkipReason = e.reason;
  }

  const resinfos = [
    ...dkim.results.map((r) => r.info),
    spfOutcome.info,
    arcResult?.info,
    dmarcResult ? dmarcResult.info : '',
  ].filter((x): x is string => !!x);

  const dmarc: DmarcOutcome | null = dmarcResult
    ? {
        result: dmarcResult.status.result,
        domain: dmarcResult.status.header?.from ?? dmarcResult.domain,
        policy: asPolicy(dmarcResult.policy),
        published: asPolicy(dmarcResult.p),
        passed: dmarcResult.status.result === 'pass',
        aligned: {
          ...(dmarcResult.alignment?.spf?.result ? { spf: dmarcResult.alignment.spf.result } : {}),
          ...(dmarcResult.alignment?.dkim?.result ? { dkim: dmarcResult.alignment.dkim.result } : {}),
        },
      }
    : null;

  return {
    spf: spfOutcome,
    // Signatures only: an unsigned message has one "none" row, which only the header reports.
    dkim: dkim.results
      .filter((r) => r.signingDomain)
      .map((r) => ({
        result: r.status.result,
        domain: r.signingDomain ?? '',
        selector: r.selector ?? '',
        ...(r.status.comment ? { comment: r.status.comment } : {}),
      })),
    arc: { result: arcResult?.status?.result ?? 'none', instance: arcResult?.i || null },
    dmarc,
    ...(dmarcSkipReason && !dmarc ? { dmarcSkipReason } : {}),
    authResults: formatAuthResults(input.hostname, resinfos),
    raw: { dkim, arc: arcResult ?? false, dmarc: dmarcResult },
  };
}
