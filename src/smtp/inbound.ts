/**
 * The MX session (RFC 5321): who may connect, which recipients are accepted, and what happens to DATA.
 * Rules: a recipient is accepted only if it resolves to a local mailbox or a forwarding alias of an active
 * hosted domain (recipients.ts); the message is durable in every mailbox and indexed before 250 is sent
 * (store/mailStore.ts); every refusal is a REJECTED delivery event and a log line with its reason; a session that keeps
 * getting refusals is closed with 421 after smtp.max_errors; one client address holds at most
 * smtp.max_connections_per_ip connections. The security policy (src/policy/pipeline.ts) runs at RCPT (SPF
 * reject, greylisting, rate limits, one content policy per transaction) and at the end of DATA on the spooled
 * file (DKIM/DMARC/ARC, ClamAV, SpamAssassin); a verdict becomes a reply only through verdictReply(); a
 * quarantined message goes to each recipient's Junk; the checks' header lines (Authentication-Results naming our
 * hostname, X-Spam-*) are prepended and any Authentication-Results forged with our hostname is removed; every
 * decision is a delivery event and a log line with the guide's word for it.
 */
import { randomBytes } from 'node:crypto';
import type { SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { Config } from '../config/load.ts';
import { arcSealFields } from '../dkim/arcSeal.ts';
import { LOG_EVENTS, type Logger } from '../log/logger.ts';
import { networkSet } from '../net/networks.ts';
import { isForgedAuthResults } from '../policy/authResults.ts';
import type { Pipeline, PolicyTransaction } from '../policy/pipeline.ts';
import type { CheckResult, Verdict } from '../policy/verdict.ts';
import type { DeliveryEventsRepo, NewDeliveryEvent } from '../repos/deliveryEvents.ts';
import type { MailStore, Spooled, StoreTarget } from '../store/mailStore.ts';
import { createConnectionLimit } from './connectionLimit.ts';
import { type Directory, type LocalTarget, type Resolution, resolveRecipient, type SrsReverser } from './recipients.ts';
import { REPLIES, type Reply, replyError, verdictReply } from './replies.ts';
import { traceHeaders } from './trace.ts';

export interface InboundDeps {
  config: Config;
  /** Spools, checks quotas and delivers: the mail store. */
  mail: MailStore;
  /** Who the recipients are. */
  directory: Directory;
  /** Where refusals are recorded. */
  events: Pick<DeliveryEventsRepo, 'record'>;
  /** The security checks (src/policy). */
  policy: Pipeline;
  /** Sender Rewriting for forwarded copies and reversal of bounces to them (null: queue.srs is off). */
  srs?: (SrsReverser & { forward(sender: string, localDomain: string): string }) | null;
  log: Logger;
}

interface SessionState {
  accepted: Map<string, Extract<Resolution, { ok: true }>>;
  errors: number;
  /** The policy state of the current transaction (from MAIL FROM). */
  tx: PolicyTransaction | null;
}

/** The log line of a policy decision: the guide's greppable words. */
function policyLogLine(r: CheckResult): string {
  switch (r.check) {
    case 'ratelimit':
      return LOG_EVENTS.rateLimited;
    case 'greylist':
      return LOG_EVENTS.greylisted;
    case 'clamav':
      return r.reason === 'virus_detected' ? LOG_EVENTS.virus : LOG_EVENTS.scannerFailed;
    case 'spam':
      if (r.reason !== 'spam') return LOG_EVENTS.scannerFailed;
      return r.action === 'reject' ? LOG_EVENTS.spamRejected : LOG_EVENTS.spam;
    case 'spf':
      return LOG_EVENTS.spfFail;
    case 'dkim':
      return LOG_EVENTS.dkimFail;
    case 'dmarc':
      return LOG_EVENTS.dmarcFail;
    default:
      return LOG_EVENTS.policy;
  }
}

/** The event type of a policy refusal. */
const refusalEvent = (r: CheckResult) =>
  r.check === 'greylist' ? 'GREYLISTED' : r.action === 'tempfail' ? 'DEFERRED' : 'REJECTED';

// Random bytes for queue ids, drawn 4 at a time from a block (one call into the CSPRNG per 1,024 ids).
let entropy = Buffer.alloc(0);
let entropyAt = 0;

/** A queue id: the time in base 36 and 32 random bits, in upper case (e.g. `MGX1K2A0F3C9B11E`). */
export function newQueueId(): string {
  if (entropyAt + 4 > entropy.length) {
    entropy = randomBytes(4096);
    entropyAt = 0;
  }
  const random = entropy.readUInt32BE(entropyAt);
  entropyAt += 4;
  return `${Date.now().toString(36)}${random.toString(16).padStart(8, '0')}`.toUpperCase();
}

export function inboundHandlers(deps: InboundDeps): Partial<SMTPServerOptions> {
  const { config, directory, events, log } = deps;
  const relayClients = networkSet(config.smtp.relay_networks);
  const connections = createConnectionLimit(config.smtp.max_connections_per_ip, log);
  const sessions = new Map<string, SessionState>();
  const state = (s: SMTPServerSession) => {
    let st = sessions.get(s.id);
    if (!st) {
      st = { accepted: new Map(), errors: 0, tx: null };
      sessions.set(s.id, st);
    }
    return st;
  };

  const reject: Reject = (session, reply, rcpt, domain, extra = {}, policy) => {
    log.info(
      {
        session: session.id,
        ip: session.remoteAddress,
        reason: policy?.reason ?? reply.reason,
        code: reply.code,
        rcpt,
        ...(policy && { check: policy.check, ...policy.detail }),
        ...extra,
      },
      policy ? policyLogLine(policy) : 'message rejected',
    );
    try {
      events.record({
        type: policy ? refusalEvent(policy) : 'REJECTED',
        messageId: null,
        queueId: null,
        sender: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
        recipients: rcpt,
        domain,
        userEmail: null,
        remoteIp: session.remoteAddress,
        reason: policy?.reason ?? reply.reason,
        details: {
          code: reply.code,
          enhanced: reply.enhanced,
          ...(policy && { check: policy.check, ...policy.detail }),
          ...extra,
        },
      });
    } catch (err) {
      log.warn({ err }, 'could not record a rejection event');
    }
  };

  return {
    onConnect(session, cb) {
      const refused = connections.admit(session.remoteAddress);
      if (refused) return cb(refused);
      state(session);
      cb();
    },

    onClose(session) {
      if (sessions.delete(session.id)) connections.release(session.remoteAddress);
    },

    onMailFrom(address, session, cb) {
      const st = state(session);
      st.accepted.clear();
      st.tx = deps.policy.begin(session.remoteAddress, session.hostNameAppearsAs ?? '', address.address ?? '');
      cb();
    },

    onRcptTo(address, session, cb) {
      const st = state(session);
      const fail = (reply: Reply, domain: string | null) => {
        reject(session, reply, [address.address], domain);
        st.errors++;
        if (st.errors >= config.smtp.max_errors) return cb(replyError(REPLIES.tooManyErrors()));
        cb(replyError(reply));
      };
      if (
        session.envelope.rcptTo.length >= config.smtp.max_recipients &&
        !st.accepted.has(address.address.toLowerCase())
      )
        return fail(REPLIES.tooManyRecipients(config.smtp.max_recipients), null);
      let r: Resolution;
      try {
        r = resolveRecipient(directory, address.address, deps.srs);
      } catch (err) {
        log.error({ err, rcpt: address.address }, 'recipient lookup failed');
        return cb(replyError(REPLIES.localError()));
      }
      // smtp.relay_networks (Postfix's permit_mynetworks): mail for other domains is queued for them, unchecked.
      if (!r.ok && r.domain === null && r.reply.reason === 'relay_denied' && relayClients.has(session.remoteAddress)) {
        const at = address.address.lastIndexOf('@');
        const domain = address.address.slice(at + 1).toLowerCase();
        if (at > 0 && /^[^\s<>]+$/.test(address.address) && domain.includes('.')) {
          st.accepted.set(address.address.toLowerCase(), {
            ok: true,
            address: address.address,
            domain,
            local: [],
            remote: [address.address],
            relay: true,
          });
          return cb();
        }
      }
      if (!r.ok) return fail(r.reply, r.domain);
      // Over quota already (RFC 5321 4.5.3.1.10: 452 with the mailbox full; a later retry may succeed).
      for (const t of r.local) {
        const quota = deps.mail.quotaOf(t.user);
        if (quota.limit > 0 && quota.used >= quota.limit) return fail(REPLIES.overQuotaRcpt(address.address), r.domain);
      }
      const domain = directory.domains.get(r.domain);
      if (!domain || !st.tx) return cb(replyError(REPLIES.localError()));
      deps.policy
        .rcpt(st.tx, { recipient: r.address, domain, users: r.local.map((t) => t.user.email) })
        .then((outcome) => {
          if (outcome.ok) {
            st.accepted.set(address.address.toLowerCase(), r);
            return cb();
          }
          if ('mismatch' in outcome) {
            // Not an error of the client's: it retries this recipient in a transaction of its own.
            log.info(
              { session: session.id, rcpt: address.address, domain: r.domain },
              'recipient deferred: other policy',
            );
            return cb(replyError(REPLIES.policyMismatch(address.address)));
          }
          const reply = verdictReply(outcome.result);
          reject(session, reply, [address.address], r.domain, {}, outcome.result);
          st.errors++;
          if (st.errors >= config.smtp.max_errors) return cb(replyError(REPLIES.tooManyErrors()));
          cb(replyError(reply));
        })
        .catch((err) => {
          log.error({ err, rcpt: address.address }, 'policy check failed');
          cb(replyError(REPLIES.localError()));
        });
    },

    onData(stream: SMTPServerDataStream, session, cb) {
      handleData(deps, session, stream, state(session), reject).then(
        (reply) => cb(null, reply),
        (err: Error & { responseCode?: number }) => cb(err),
      );
    },
  };
}

type Reject = (
  session: SMTPServerSession,
  reply: Reply,
  rcpt: string[],
  domain: string | null,
  extra?: Record<string, unknown>,
  policy?: CheckResult,
) => void;

/** What the delivery events keep of a verdict: each check's result word. */
function verdictSummary(v: Verdict): Record<string, unknown> {
  const checks: Record<string, unknown> = {};
  for (const r of v.results) checks[r.check] = { action: r.action, reason: r.reason, ...r.detail };
  return { checks, verdict: v.action, ...(v.decisive && { decidedBy: v.decisive.check }) };
}

async function handleData(
  deps: InboundDeps,
  session: SMTPServerSession,
  stream: SMTPServerDataStream,
  st: SessionState,
  reject: Reject,
): Promise<string> {
  const { config, mail, log } = deps;
  const queueId = newQueueId();
  const rcpts = session.envelope.rcptTo.map((r) => r.address);
  const resolutions = rcpts.map((a) => st.accepted.get(a.toLowerCase())).filter((r): r is NonNullable<typeof r> => !!r);
  const local = new Map<number, LocalTarget>();
  // Forwarded addresses, with the hosted domain that forwarded them (the SRS domain).
  const remote = new Map<string, string>();
  // Relayed for a client of smtp.relay_networks: sent as submitted (no SRS: the sender's own mail).
  const relayed = new Set<string>();
  for (const r of resolutions) {
    for (const t of r.local) local.set(t.user.id, t);
    for (const a of r.remote) if (!remote.has(a)) remote.set(a, r.domain);
    if (r.relay) for (const a of r.remote) relayed.add(a);
  }
  const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const tlsInfo = session.secure
    ? ((session as unknown as { tlsOptions?: { version?: string; name?: string } }).tlsOptions ?? {})
    : null;
  const prefix = traceHeaders({
    sender,
    helo: session.hostNameAppearsAs,
    clientHostname:
      session.clientHostname && session.clientHostname !== `[${session.remoteAddress}]` ? session.clientHostname : null,
    remoteAddress: session.remoteAddress,
    hostname: config.server.hostname,
    protocol: session.secure ? 'ESMTPS' : 'ESMTP',
    queueId,
    recipient: rcpts.length === 1 ? rcpts[0]! : null,
    deliveredTo: local.size === 1 && remote.size === 0 ? [...local.values()][0]!.user.email : null,
    tls: tlsInfo ? { version: tlsInfo.version ?? null, cipher: tlsInfo.name ?? null } : null,
  });
  const firstDomain = resolutions[0]?.domain ?? null;

  // The transaction's one content policy (every accepted recipient shares it), as stored when DATA began.
  const policyDomain = firstDomain ? deps.directory.domains.get(firstDomain) : null;
  let spooled: Spooled;
  try {
    // Written straight into the first recipient's INBOX tmp/ (renamed into its cur/ on delivery).
    const first = local.values().next().value;
    // When the checks will add header lines the file is rewritten anyway: spooled unsynced (the checks read the
    // page cache) and rewriteHeaders() below makes durable what is delivered, one fdatasync per message.
    const rewritten = !!policyDomain && !!st.tx && deps.policy.addsHeaders(st.tx, policyDomain);
    spooled = await mail.spool(
      prefix,
      stream,
      config.smtp.max_message_size,
      first && { email: first.user.email, mailboxName: 'INBOX' },
      { sync: !rewritten },
    );
  } catch (err) {
    // The client hung up (or was timed out) before the end of the message: nothing failed here, and there is no
    // one left to answer. The partial file is already removed.
    if ((err as Error).cause && ((err as Error).cause as NodeJS.ErrnoException).code === 'ECONNECTION') {
      log.info({ queueId, ip: session.remoteAddress, rcpt: rcpts }, 'client disconnected during DATA');
      throw replyError(REPLIES.localError());
    }
    log.error({ err, queueId }, 'spooling failed');
    reject(session, REPLIES.localError(), rcpts, firstDomain, { queueId });
    throw replyError(REPLIES.localError());
  }
  if (spooled.oversized || stream.sizeExceeded) {
    mail.discard(spooled);
    const reply = REPLIES.tooBig(config.smtp.max_message_size);
    reject(session, reply, rcpts, firstDomain, { queueId, size: spooled.size });
    throw replyError(reply);
  }

  // Quota with the real size (RFC 5321 4.5.3.1.10). One recipient: permanent 552 5.2.2. Several: SMTP has one
  // reply for all, so a temporary 452 makes the sender retry, when RCPT then refuses just the full mailbox.
  for (const t of local.values()) {
    const { limit: quota, used } = mail.quotaOf(t.user);
    if (quota <= 0) continue;
    if (used + spooled.size > quota) {
      mail.discard(spooled);
      const reply = rcpts.length === 1 ? REPLIES.overQuotaData(t.user.email) : REPLIES.overQuotaDataTemp(t.user.email);
      reject(session, reply, rcpts, t.domain, { queueId, size: spooled.size, quota, used });
      throw replyError(reply);
    }
  }

  // The content checks.
  let verdict: Verdict | null = null;
  if (policyDomain && st.tx) {
    try {
      verdict = await deps.policy.data(st.tx, spooled.path, spooled.size, policyDomain);
    } catch (err) {
      mail.discard(spooled);
      log.error({ err, queueId }, 'policy check failed');
      reject(session, REPLIES.localError(), rcpts, firstDomain, { queueId });
      throw replyError(REPLIES.localError());
    }
    const decisive = verdict.decisive;
    const refused = !!decisive && (decisive.action === 'reject' || decisive.action === 'tempfail');
    // Every finding is a log line (a refusal's own is written by reject() below).
    for (const r of verdict.results)
      if ((r.action !== 'accept' || /fail|unavailable/.test(r.reason)) && !(refused && r === decisive))
        log[r.reason === 'scanner_unavailable' ? 'warn' : 'info'](
          { queueId, check: r.check, reason: r.reason, action: r.action, ...r.detail },
          policyLogLine(r),
        );
    if (decisive && refused) {
      mail.discard(spooled);
      const reply = verdictReply(decisive);
      reject(session, reply, rcpts, firstDomain, { queueId, size: spooled.size }, decisive);
      throw replyError(reply);
    }
  }
  const quarantine = verdict?.action === 'quarantine';
  try {
    // Nothing to add and no Authentication-Results to judge: the file stays as spooled (already synced).
    if (verdict?.headers.length || spooled.authResults || !spooled.synced)
      spooled = await mail.rewriteHeaders(spooled, {
        prepend: verdict?.headers ?? [],
        drop: (name, value) =>
          name.toLowerCase() === 'authentication-results' && isForgedAuthResults(value, config.server.hostname),
      });
  } catch (err) {
    mail.discard(spooled);
    log.error({ err, queueId }, 'adding headers failed');
    reject(session, REPLIES.localError(), rcpts, firstDomain, { queueId });
    throw replyError(REPLIES.localError());
  }

  // Forwarded to another domain after our checks: ARC-sealed by the forwarding domain (RFC 8617), so that the
  // destination can rely on the results we saw (SPF no longer passes there; SRS fixes only the envelope).
  const forwardedBy = [...remote].find(([r]) => !relayed.has(r))?.[1];
  const authResults = verdict?.headers.find((h) => /^Authentication-Results:/i.test(h));
  const forwardDomain = forwardedBy ? deps.directory.domains.get(forwardedBy) : null;
  if (!quarantine && forwardDomain && authResults) {
    try {
      const cv = verdict?.results.find((r) => r.check === 'arc')?.detail?.result;
      const seal = await arcSealFields(spooled.path, { domain: forwardDomain, authResults, cv: String(cv ?? 'none') });
      if (seal.length) spooled = await mail.rewriteHeaders(spooled, { prepend: seal, drop: () => false });
    } catch (err) {
      // Forwarded unsealed rather than not at all: the seal is an aid to the destination, not a requirement.
      log.warn({ err, queueId, domain: forwardedBy }, 'ARC sealing failed');
    }
  }

  const targets: StoreTarget[] = [...local.values()].map((t) => {
    if (!quarantine) return { userId: t.user.id, email: t.user.email, mailboxId: t.user.inboxId, mailboxName: 'INBOX' };
    const junk = mail.junkOf(t.user);
    return { userId: t.user.id, email: t.user.email, mailboxId: junk.mailboxId, mailboxName: junk.mailboxName };
  });
  // A quarantined message is kept for its local recipients only: it is not forwarded to other servers.
  if (quarantine) remote.clear();
  const base = {
    messageId: spooled.headers.messageId,
    queueId,
    sender,
    remoteIp: session.remoteAddress,
    reason: null,
  };
  const events: NewDeliveryEvent[] = [
    {
      ...base,
      type: 'RECEIVED',
      recipients: rcpts,
      domain: firstDomain,
      userEmail: null,
      details: {
        size: spooled.size,
        helo: session.hostNameAppearsAs,
        tls: session.secure,
        ...(verdict && verdictSummary(verdict)),
      },
    },
    ...(quarantine && verdict?.decisive
      ? [
          {
            ...base,
            type: 'QUARANTINED' as const,
            recipients: rcpts,
            domain: firstDomain,
            userEmail: null,
            reason: verdict.decisive.reason,
            details: { check: verdict.decisive.check, ...verdict.decisive.detail, mailbox: targets[0]?.mailboxName },
          },
        ]
      : []),
    ...targets.map((t) => ({
      ...base,
      type: 'DELIVERED_LOCAL' as const,
      recipients: [t.email],
      domain: t.email.split('@')[1]!,
      userEmail: t.email,
      details: { size: spooled.size },
    })),
    ...(remote.size
      ? [
          {
            ...base,
            type: 'QUEUED' as const,
            recipients: [...remote.keys()],
            domain: firstDomain,
            userEmail: null,
            details: { forwarded: true, origin: 'forward' },
          },
        ]
      : []),
  ];
  try {
    await mail.deliver(
      spooled,
      targets,
      events,
      [...remote].map(([r, via]) => ({
        queue_id: queueId,
        // SRS (as postsrsd): the forwarding domain vouches for the envelope, so SPF passes at the destination; a
        // bounce to that address comes back here and is reversed to the original sender (recipients.ts).
        sender: sender && deps.srs && !relayed.has(r) ? deps.srs.forward(sender, via) : sender,
        recipient: r,
        recipient_domain: r.slice(r.lastIndexOf('@') + 1).toLowerCase(),
        origin: relayed.has(r) ? ('submission' as const) : ('forward' as const),
        dsn_to: sender,
        expires_at: Date.now() + config.queue.max_age_days * 86_400_000,
      })),
    );
  } catch (err) {
    mail.discard(spooled);
    log.error({ err, queueId }, 'delivery failed');
    reject(session, REPLIES.localError(), rcpts, firstDomain, { queueId });
    throw replyError(REPLIES.localError());
  }
  log.info(
    {
      queueId,
      from: sender,
      to: rcpts,
      mailboxes: targets.map((t) => `${t.email}/${t.mailboxName}`),
      forwarded: [...remote.keys()],
      size: spooled.size,
      ip: session.remoteAddress,
    },
    'message delivered',
  );
  st.accepted.clear();
  return `2.0.0 Ok: queued as ${queueId}`;
}
