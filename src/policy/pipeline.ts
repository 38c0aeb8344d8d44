/**
 * The inbound policy pipeline: which checks run, in which order, at which SMTP phase, from the settings of the
 * recipient's domain as stored now (a change through the API applies to the next transaction).
 * Rules:
 *  - Clients in smtp.trusted_networks (Postfix's mynetworks) skip rate limits, greylisting and SPF/DKIM/DMARC/ARC;
 *    content scanning (ClamAV, SpamAssassin) applies to every client.
 *  - RCPT, per recipient, in this order: SPF (started once per transaction, at the first recipient that needs
 *    it; only a `reject` action refuses here, with 550 5.7.23, everything else is kept for the end of DATA) ->
 *    greylisting -> rate limits (per client IP, per sender domain, per recipient user; checked last so that
 *    only attempts that would be accepted use up the allowance). The first refusal wins.
 *  - End of DATA, on the spooled file, concurrently: authentication (DKIM, DMARC, ARC, with the SPF result of
 *    RCPT time), ClamAV, SpamAssassin. The results combine into one verdict (verdict.ts).
 *  - One transaction, one content policy: a recipient whose domain's content settings (contentPolicyKey) differ
 *    from the recipients already accepted gets 452 4.5.3 and is retried by the client in its own transaction.
 *  - Rate-limit allowances are counted once per transaction and key, when the recipient is accepted.
 */
import type { DomainRow } from '../repos/rows.ts';
import { type CheckResult, combine, type Verdict } from './verdict.ts';

export type RateKind = 'smtp_per_ip' | 'smtp_per_domain' | 'smtp_per_user';

/** What the pipeline needs from each check (src/policy/*). Absent checks are skipped. */
export interface PolicyChecks {
  rateLimits?: {
    check(kind: RateKind, subject: string, domain: DomainRow): Promise<CheckResult | null> | CheckResult | null;
  };
  greylist?: {
    check(
      triplet: { ip: string; sender: string; recipient: string },
      domain: DomainRow,
    ): Promise<CheckResult | null> | CheckResult | null;
  };
  /** SPF for the transaction (MAIL FROM identity); the outcome is opaque to the pipeline. */
  spf?: {
    run(tx: { ip: string; helo: string; sender: string; maxLookups: number }): Promise<unknown>;
    decide(outcome: unknown, domain: DomainRow): CheckResult | null;
  };
  /** DKIM, DMARC, ARC (and the Authentication-Results header) for the spooled message. */
  authentication?: {
    verify(
      path: string,
      tx: { ip: string; helo: string; sender: string; spf: unknown },
      domain: DomainRow,
    ): Promise<CheckResult[]>;
  };
  antivirus?: { scan(path: string, domain: DomainRow): Promise<CheckResult | null> };
  antispam?: { check(path: string, domain: DomainRow, size: number): Promise<CheckResult | null> };
}

/** Per-transaction state (reset at MAIL FROM). */
export interface PolicyTransaction {
  ip: string;
  helo: string;
  sender: string;
  trusted: boolean;
  /** The content policy of the recipients accepted so far. */
  contentKey: string | null;
  spf: Promise<unknown> | null;
  counted: Set<string>;
}

const CONTENT_COLUMNS = [
  'spf_enabled',
  'spf_fail_action',
  'spf_softfail_action',
  'dkim_verify_enabled',
  'dmarc_enabled',
  'clamav_enabled',
  'clamav_max_scan_size',
  'clamav_virus_action',
  'clamav_fail_action',
  'spam_enabled',
  'spam_reject_score',
  'spam_quarantine_score',
] as const satisfies readonly (keyof DomainRow)[];

/** The settings that decide what happens at the end of DATA: recipients sharing a transaction must agree on them. */
export function contentPolicyKey(domain: DomainRow, trusted: boolean): string {
  return JSON.stringify(
    CONTENT_COLUMNS.map((c) =>
      trusted && (c.startsWith('spf_') || c.startsWith('dkim_') || c.startsWith('dmarc_')) ? null : domain[c],
    ),
  );
}

export interface RcptInput {
  /** The recipient as resolved (lower case, domain normalised). */
  recipient: string;
  domain: DomainRow;
  /** The local mailboxes it reaches. */
  users: string[];
}

export type RcptOutcome = { ok: true } | { ok: false; mismatch: true } | { ok: false; result: CheckResult };

export function createPipeline(checks: PolicyChecks, opts: { trusted: (ip: string) => boolean }) {
  // SPF is also what Authentication-Results reports next to DKIM: computed whenever any of the three is on.
  const needsAuth = (d: DomainRow) => d.spf_enabled || d.dkim_verify_enabled || d.dmarc_enabled;
  const senderDomain = (sender: string) => sender.slice(sender.lastIndexOf('@') + 1).toLowerCase();

  const spfOf = (tx: PolicyTransaction, d: DomainRow): Promise<unknown> | null => {
    if (!checks.spf || tx.trusted || !needsAuth(d)) return null;
    tx.spf ??= checks.spf
      .run({ ip: tx.ip, helo: tx.helo, sender: tx.sender, maxLookups: d.spf_max_lookups })
      // A failure of the check itself is not a verdict on the message: it reads as "no result" later.
      .catch(() => null);
    return tx.spf;
  };

  return {
    begin(ip: string, helo: string, sender: string): PolicyTransaction {
      return { ip, helo, sender, trusted: opts.trusted(ip), contentKey: null, spf: null, counted: new Set() };
    },

    async rcpt(tx: PolicyTransaction, input: RcptInput): Promise<RcptOutcome> {
      const d = input.domain;
      const key = contentPolicyKey(d, tx.trusted);
      if (tx.contentKey !== null && tx.contentKey !== key) return { ok: false, mismatch: true };
      if (!tx.trusted) {
        const spf = spfOf(tx, d);
        if (spf && d.spf_enabled && checks.spf) {
          const r = checks.spf.decide(await spf, d);
          if (r && r.action === 'reject') return { ok: false, result: r };
        }
        if (d.greylist_enabled && checks.greylist) {
          const r = await checks.greylist.check(
            { ip: tx.ip, sender: tx.sender.toLowerCase(), recipient: input.recipient },
            d,
          );
          if (r && r.action !== 'accept') return { ok: false, result: r };
        }
        if (d.ratelimit_enabled && checks.rateLimits) {
          const subjects: [RateKind, string][] = [
            ['smtp_per_ip', tx.ip],
            ...(tx.sender ? [['smtp_per_domain', senderDomain(tx.sender)] as [RateKind, string]] : []),
            ...input.users.map((u) => ['smtp_per_user', u] as [RateKind, string]),
          ];
          for (const [kind, subject] of subjects) {
            const counted = `${kind}:${d.name}:${subject}`;
            if (tx.counted.has(counted)) continue;
            const r = await checks.rateLimits.check(kind, subject, d);
            if (r && r.action !== 'accept') return { ok: false, result: r };
            tx.counted.add(counted);
          }
        }
      }
      tx.contentKey = key;
      return { ok: true };
    },

    /**
     * Whether the end-of-DATA checks may add header lines for this transaction (so the message will be
     * rewritten): authentication (Authentication-Results) or a scanner (X-Spam-*, X-Virus-Status).
     */
    addsHeaders(tx: PolicyTransaction, domain: DomainRow): boolean {
      return (!tx.trusted && needsAuth(domain)) || domain.clamav_enabled || domain.spam_enabled;
    },

    /** The end-of-DATA checks on the spooled file, for the transaction's content policy (`domain`). */
    async data(tx: PolicyTransaction, path: string, size: number, domain: DomainRow): Promise<Verdict> {
      const runs: Promise<CheckResult[]>[] = [];
      if (!tx.trusted && needsAuth(domain) && checks.authentication) {
        const spf = spfOf(tx, domain);
        runs.push(
          (spf ?? Promise.resolve(null)).then((outcome) =>
            checks.authentication!.verify(path, { ip: tx.ip, helo: tx.helo, sender: tx.sender, spf: outcome }, domain),
          ),
        );
      }
      if (domain.clamav_enabled && checks.antivirus)
        runs.push(checks.antivirus.scan(path, domain).then((r) => (r ? [r] : [])));
      if (domain.spam_enabled && checks.antispam)
        runs.push(checks.antispam.check(path, domain, size).then((r) => (r ? [r] : [])));
      return combine((await Promise.all(runs)).flat());
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
