/**
 * Authenticated submission (RFC 6409) on smtp.submission_port (STARTTLS) and smtp.smtps_port (implicit TLS): the
 * smtp-server handlers of those listeners. Rules:
 * - AUTH PLAIN and LOGIN only (PLAIN with an authorization identity other than the login is refused), and only over TLS (allowInsecureAuth off: EHLO before STARTTLS lists no AUTH, AUTH
 *   then gets 538). The login is src/auth/login.ts's; any failure (wrong password, unknown user, disabled user or
 *   domain, a blocked client: bruteForce.ts) is 535 5.7.8 `Authentication credentials invalid` (or login.ts's client
 *   text, when only an app password may log in), after the same delay as an IMAP failure (login.ts's
 *   failureDelayMs, by failures in the session), and a log line `authentication failed` with ip, username and the
 *   reason (`blocked` for a blocked client). Failed attempts
 *   count per client address against ratelimit_auth_per_ip of the attempted username's domain (`_default` for an
 *   unknown domain): past it, AUTH gets 454 4.7.0 and `rate_limit_exceeded` (policy/submissionLimits.ts).
 * - MAIL/RCPT/DATA before AUTH: 530 5.7.0. At MAIL the user and their domain are checked again (disabled since AUTH
 *   in this session: 550 5.7.1); MAIL FROM must be owned by the user (own address, plus-address, alias naming them;
 *   the null sender <> is allowed, for MDNs), else 553 5.7.1; then ratelimit_smtp_per_user of the user's domain
 *   counts the message (451 4.7.1 and `rate_limit_exceeded` past it).
 * - RCPT: authenticated users relay to any syntactically valid address; an address of a hosted domain resolves as
 *   for inbound mail (recipients.ts: unknown user 550 5.1.1, aliases expand, remote alias destinations are queued);
 *   at most smtp.max_recipients (452 4.5.3); a local mailbox already over quota gets 452 4.2.2.
 * - DSN (RFC 3461) is advertised here (not on the MX): RET/ENVID of MAIL and NOTIFY/ORCPT of each RCPT are stored
 *   on the queue rows of remote recipients, with dsn_to = the envelope sender, origin 'submission', user_id.
 * - DATA: spooled like the MX with a Received header `with ESMTPSA` naming the authenticated sender; then every
 *   address of every From field must be owned too (else 553 5.7.1 as the DATA reply, nothing stored or queued); a
 *   message without a From address is refused with 550 5.6.0 (Postfix accepts it, Gmail refuses it: DKIM signing
 *   and DMARC need a From domain); Message-ID and Date are added when missing (RFC 6409 8.2, 8.3), at the top of
 *   the header section; then the optional DKIM hook signs (its header lines are prepended; a signer failure is
 *   451 4.3.0 rather than unsigned mail); forged Authentication-Results with our hostname are dropped; the file
 *   is made durable (rewriteHeaders), then deliver() indexes local copies and commits the remote recipients' queue
 *   rows in one transaction before 250 2.0.0. No spam, virus, SPF/DKIM/DMARC checks run on authenticated
 *   submission. With queue.sent_copy a \Seen copy goes to the sender's Sent mailbox (SPECIAL-USE \Sent, else
 *   "Sent", created if missing; skipped with a warning if the sender is over quota).
 * - Events: RECEIVED (submission: true, user, tls), DELIVERED_LOCAL per local recipient, QUEUED for the remote ones
 *   (origin 'submission'). Refusals are log lines (`message rejected` with the reason), not delivery events.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { type AuthUser, checkLogin, failureDelayMs, type LoginDeps } from '../auth/login.ts';
import type { Config } from '../config/load.ts';
import { LOG_EVENTS, type Logger } from '../log/logger.ts';
import { isForgedAuthResults } from '../policy/authResults.ts';
import type { Counters } from '../policy/counters.ts';
import { createSubmissionLimits } from '../policy/submissionLimits.ts';
import { sendDeliveredNotice } from '../queue/notices.ts';
import type { NewDeliveryEvent } from '../repos/deliveryEvents.ts';
import type { Repos } from '../repos/index.ts';
import { normalizeDomain, TEMPLATE_DOMAIN } from '../repos/names.ts';
import type { DomainRow } from '../repos/rows.ts';
import type { MailStore, Spooled, StoreTarget } from '../store/mailStore.ts';
import { createConnectionLimit } from './connectionLimit.ts';
import { newQueueId } from './inbound.ts';
import { type LocalTarget, type Resolution, resolveRecipient } from './recipients.ts';
import { REPLIES, type Reply, replyError } from './replies.ts';
import { fromHeader, hasField, ownsAddress } from './senderAddresses.ts';
import { rfc5322Date, traceHeaders } from './trace.ts';

/** The DKIM signing hook: header lines (CRLF-separated, folded with CRLF + WSP) to prepend; '' for none. */
export interface DkimSigner {
  sign(path: string, fromDomain: string): Promise<string>;
}

export interface SubmissionDeps {
  config: Config;
  /** Spools, checks quotas and delivers: the mail store. */
  mail: MailStore;
  /** Sender ownership, recipient resolution. */
  repos: Pick<Repos, 'users' | 'domains' | 'aliases'>;
  /** What AUTH logs in through (auth/login.ts: repositories and brute-force guard). */
  logins: LoginDeps;
  /** The rate-limit counters (shared with the MX's policy, which sweeps them). */
  counters: Counters;
  log: Logger;
  /** Signs submitted mail (optional: none is wired yet). */
  dkim?: DkimSigner;
  /** The rate-limit clock (tests move it). */
  now?: () => number;
}

/** What RCPT accepted: the resolution of a hosted address, or a remote address. */
type Accepted = Extract<Resolution, { ok: true }>;

interface SessionState {
  accepted: Map<string, Accepted>;
  errors: number;
  authFailures: number;
}

const userOf = (session: SMTPServerSession): AuthUser | null => (session.user as AuthUser | undefined) ?? null;

export function submissionHandlers(deps: SubmissionDeps): Partial<SMTPServerOptions> {
  const { config, repos, log } = deps;
  const limits = createSubmissionLimits({ counters: deps.counters, now: deps.now });
  const connections = createConnectionLimit(config.smtp.max_connections_per_ip, log);
  const sessions = new Map<string, SessionState>();
  const state = (s: SMTPServerSession) => {
    let st = sessions.get(s.id);
    if (!st) {
      st = { accepted: new Map(), errors: 0, authFailures: 0 };
      sessions.set(s.id, st);
    }
    return st;
  };
  /** The rules of a domain for a login name: its hosted domain's row, else the `_default` template's. */
  const rulesFor = (username: string): DomainRow => {
    const name = username.slice(username.lastIndexOf('@') + 1).toLowerCase();
    const d = name && name !== TEMPLATE_DOMAIN ? repos.domains.get(name) : undefined;
    return d ?? repos.domains.template();
  };
  const refuse = (session: SMTPServerSession, reply: Reply, extra: Record<string, unknown> = {}) => {
    log.info(
      {
        session: session.id,
        ip: session.remoteAddress,
        user: userOf(session)?.email,
        reason: reply.reason,
        code: reply.code,
        ...extra,
      },
      'message rejected',
    );
    return replyError(reply);
  };

  return {
    authMethods: ['PLAIN', 'LOGIN'],
    authRequiredMessage: `${REPLIES.authRequired().enhanced} ${REPLIES.authRequired().text}`,

    onConnect(session, cb) {
      const refused = connections.admit(session.remoteAddress);
      if (refused) return cb(refused);
      state(session);
      cb();
    },

    onClose(session) {
      if (sessions.delete(session.id)) connections.release(session.remoteAddress);
    },

    onAuth(auth, session, cb) {
      const ip = session.remoteAddress;
      const username = auth.username ?? '';
      (async () => {
        const rules = rulesFor(username);
        const limit = await limits.authBlocked(ip, rules);
        if (limit.blocked) {
          log.info(
            {
              ip,
              username,
              rule: 'auth_per_ip',
              domain: rules.name,
              limit: rules.ratelimit_auth_per_ip.count,
              window_minutes: rules.ratelimit_auth_per_ip.window_minutes,
            },
            LOG_EVENTS.rateLimited,
          );
          return cb(replyError(REPLIES.authRateLimited()));
        }
        // RFC 4616: an authorization identity other than the authenticated one would be acting as someone else.
        const proxy =
          auth.method === 'PLAIN' &&
          auth.authzid &&
          auth.authcid &&
          auth.authzid.toLowerCase() !== auth.authcid.toLowerCase();
        const r = proxy
          ? { error: `authorization identity ${auth.authzid} differs` }
          : await checkLogin(deps.logins, username, auth.password ?? '', { protocol: 'smtp', ip });
        if ('error' in r) {
          await limits.authFailed(ip, rules);
          const st = state(session);
          st.authFailures++;
          log.info({ ip, username, reason: r.error, method: auth.method }, LOG_EVENTS.authFailed);
          await sleep(failureDelayMs(st.authFailures));
          return cb(replyError(REPLIES.authFailed('reply' in r ? r.reply : undefined)));
        }
        log.info({ ip, user: r.user.email, method: auth.method, session: session.id }, 'smtp login');
        cb(null, { user: r.user });
      })().catch((err) => {
        log.error({ err, ip, username }, 'smtp authentication failed with an error');
        cb(replyError(REPLIES.localError()));
      });
    },

    onMailFrom(address, session, cb) {
      const st = state(session);
      st.accepted.clear();
      const user = userOf(session);
      if (!user) return cb(replyError(REPLIES.authRequired()));
      // Disabled since AUTH (in this same session)?
      const row = repos.users.get(user.email);
      const domain = repos.domains.get(user.domain);
      if (row?.status !== 'active' || domain?.status !== 'active')
        return cb(
          refuse(session, REPLIES.senderDisabled(user.email), {
            why: !row ? 'user deleted' : row.status !== 'active' ? `user is ${row.status}` : 'domain is disabled',
          }),
        );
      const sender = address.address ?? '';
      if (sender && !ownsAddress(repos, user, sender))
        return cb(refuse(session, REPLIES.senderNotOwned(sender, user.email), { from: sender }));
      limits.message(user.email, domain).then(
        (limited) => {
          if (!limited) return cb();
          log.info({ ip: session.remoteAddress, user: user.email, ...limited.detail }, LOG_EVENTS.rateLimited);
          cb(replyError(REPLIES.rateLimited(Number(limited.detail?.retry_after_s ?? 60))));
        },
        (err) => {
          log.error({ err, user: user.email }, 'rate limit check failed');
          cb(replyError(REPLIES.localError()));
        },
      );
    },

    onRcptTo(address, session, cb) {
      const st = state(session);
      const fail = (reply: Reply) => {
        const err = refuse(session, reply, { rcpt: address.address });
        st.errors++;
        if (st.errors >= config.smtp.max_errors) return cb(replyError(REPLIES.tooManyErrors()));
        cb(err);
      };
      const key = address.address.toLowerCase();
      if (session.envelope.rcptTo.length >= config.smtp.max_recipients && !st.accepted.has(key))
        return fail(REPLIES.tooManyRecipients(config.smtp.max_recipients));
      let r: Resolution;
      try {
        r = resolveSubmissionRecipient(repos, address.address);
      } catch (err) {
        log.error({ err, rcpt: address.address }, 'recipient lookup failed');
        return cb(replyError(REPLIES.localError()));
      }
      if (!r.ok) return fail(r.reply);
      for (const t of r.local) {
        const quota = deps.mail.quotaOf(t.user);
        if (quota.limit > 0 && quota.used >= quota.limit) return fail(REPLIES.overQuotaRcpt(address.address));
      }
      st.accepted.set(key, r);
      cb();
    },

    onData(stream: SMTPServerDataStream, session, cb) {
      handleData(deps, session, stream, state(session), refuse).then(
        (reply) => cb(null, reply),
        (err: Error & { responseCode?: number }) => cb(err),
      );
    },
  };
}

/**
 * A recipient of a submitted message: an address of a hosted domain resolves as for inbound mail; any other
 * syntactically valid address is remote (the user relays through us).
 */
export function resolveSubmissionRecipient(
  repos: Pick<Repos, 'users' | 'domains' | 'aliases'>,
  raw: string,
): Resolution {
  const at = raw.lastIndexOf('@');
  if (at <= 0 || at === raw.length - 1) return { ok: false, reply: REPLIES.badAddress(raw), domain: null };
  let domain: string;
  try {
    domain = normalizeDomain(raw.slice(at + 1));
  } catch {
    return { ok: false, reply: REPLIES.badAddress(raw), domain: null };
  }
  const hosted = repos.domains.get(domain);
  if (hosted && hosted.name !== TEMPLATE_DOMAIN) return resolveRecipient(repos, raw);
  const local = raw.slice(0, at);
  if (local.length > 64 || /[\p{Cc}\s]/u.test(local) || !domain.includes('.'))
    return { ok: false, reply: REPLIES.badAddress(raw), domain: null };
  const address = `${local}@${domain}`;
  return { ok: true, address, domain, local: [], remote: [address] };
}

/** A remote recipient's queue columns: its DSN parameters (RFC 3461) and, for an alias expansion, the ORCPT. */
interface RemoteCopy {
  recipient: string;
  notify: string | null;
  orcpt: string | null;
}

type Refuse = (session: SMTPServerSession, reply: Reply, extra?: Record<string, unknown>) => Error;

/** Header lines as the DKIM hook returns them, as rewriteHeaders() takes them (one string per field, CRLF folds). */
const headerLines = (block: string): string[] =>
  block
    .replace(/\r?\n/g, '\r\n')
    .replace(/(\r\n)+$/, '')
    .split(/\r\n(?![ \t])/)
    .filter((l) => l.length > 0);

async function handleData(
  deps: SubmissionDeps,
  session: SMTPServerSession,
  stream: SMTPServerDataStream,
  st: SessionState,
  refuse: Refuse,
): Promise<string> {
  const { config, mail, log } = deps;
  const user = userOf(session);
  if (!user) throw replyError(REPLIES.authRequired());
  const queueId = newQueueId();
  const envelope = session.envelope;
  const rcpts = envelope.rcptTo.map((r) => r.address);
  const local = new Map<number, LocalTarget>();
  const remote = new Map<string, RemoteCopy>();
  for (const rcpt of envelope.rcptTo as SMTPServerAddress[]) {
    const r = st.accepted.get(rcpt.address.toLowerCase());
    if (!r) continue;
    for (const t of r.local) local.set(t.user.id, t);
    for (const a of r.remote) {
      if (remote.has(a.toLowerCase())) continue;
      const expanded = a.toLowerCase() !== rcpt.address.toLowerCase();
      remote.set(a.toLowerCase(), {
        recipient: a,
        notify: rcpt.dsn?.notify?.length ? rcpt.dsn.notify.join(',') : null,
        orcpt: rcpt.dsn?.orcpt ?? (expanded ? `rfc822;${rcpt.address}` : null),
      });
    }
  }
  const sender = envelope.mailFrom ? envelope.mailFrom.address : '';
  const tlsInfo = session.secure && session.tlsOptions ? session.tlsOptions : null;
  const prefix = traceHeaders({
    sender,
    helo: session.hostNameAppearsAs,
    clientHostname:
      session.clientHostname && session.clientHostname !== `[${session.remoteAddress}]` ? session.clientHostname : null,
    remoteAddress: session.remoteAddress,
    hostname: config.server.hostname,
    protocol: session.secure ? 'ESMTPSA' : 'ESMTPA',
    queueId,
    recipient: rcpts.length === 1 ? rcpts[0]! : null,
    deliveredTo:
      local.size === 1 && remote.size === 0 && !config.queue.sent_copy ? [...local.values()][0]!.user.email : null,
    tls: tlsInfo ? { version: tlsInfo.version ?? null, cipher: tlsInfo.name ?? null } : null,
    authenticatedSender: user.email,
  });

  const targets: StoreTarget[] = [...local.values()].map((t) => ({
    userId: t.user.id,
    email: t.user.email,
    mailboxId: t.user.inboxId,
    mailboxName: 'INBOX',
  }));
  let sent: StoreTarget | null = null;
  if (config.queue.sent_copy) {
    try {
      sent = { ...mail.sentOf(user), seen: true };
    } catch (err) {
      log.warn({ err, queueId, user: user.email }, 'no Sent mailbox for the sent copy');
    }
  }
  const fail = (reply: Reply, spooled: Spooled | null, extra: Record<string, unknown> = {}) => {
    if (spooled) mail.discard(spooled);
    return refuse(session, reply, { queueId, rcpt: rcpts, ...extra });
  };

  let spooled: Spooled;
  try {
    const first = targets[0] ?? sent;
    // Unsynced: the file is rewritten (or synced in place) by rewriteHeaders() below, once it is judged.
    spooled = await mail.spool(
      prefix,
      stream,
      config.smtp.max_message_size,
      first ? { email: first.email, mailboxName: first.mailboxName } : undefined,
      { sync: false },
    );
  } catch (err) {
    if ((err as Error).cause && ((err as Error).cause as NodeJS.ErrnoException).code === 'ECONNECTION') {
      log.info({ queueId, ip: session.remoteAddress, rcpt: rcpts }, 'client disconnected during DATA');
      throw replyError(REPLIES.localError());
    }
    log.error({ err, queueId }, 'spooling failed');
    throw fail(REPLIES.localError(), null);
  }
  if (spooled.oversized || stream.sizeExceeded)
    throw fail(REPLIES.tooBig(config.smtp.max_message_size), spooled, { size: spooled.size });

  for (const t of local.values()) {
    const { limit: quota, used } = mail.quotaOf(t.user);
    if (quota > 0 && used + spooled.size > quota) {
      const reply = rcpts.length === 1 ? REPLIES.overQuotaData(t.user.email) : REPLIES.overQuotaDataTemp(t.user.email);
      throw fail(reply, spooled, { size: spooled.size, quota, used });
    }
  }
  if (sent) {
    const account = deps.repos.users.account(user.email);
    const { limit: quota, used } = account ? mail.quotaOf(account) : { limit: 0, used: 0 };
    if (quota > 0 && used + spooled.size > quota) {
      log.warn({ queueId, user: user.email, quota, used }, 'sent copy skipped: over quota');
      sent = null;
    }
  }

  // The From header: every address owned by the user (RFC 6409 6.1), and Message-ID / Date when missing.
  let head: Buffer;
  try {
    head = await mail.headerSection(spooled);
  } catch (err) {
    log.error({ err, queueId }, 'reading the header failed');
    throw fail(REPLIES.localError(), spooled);
  }
  const from = fromHeader(head);
  if (from.fields === 0 || from.addresses.length === 0 || from.incomplete)
    throw fail(REPLIES.noFrom(), spooled, { fromFields: from.fields });
  const foreign = from.addresses.find((a) => !ownsAddress(deps.repos, user, a));
  if (foreign !== undefined) throw fail(REPLIES.senderNotOwned(foreign, user.email), spooled, { headerFrom: foreign });
  const added: string[] = [];
  if (!hasField(head, 'Message-ID'))
    added.push(`Message-ID: <${queueId}.${randomBytes(6).toString('hex')}@${config.server.hostname}>`);
  if (!hasField(head, 'Date')) added.push(`Date: ${rfc5322Date(new Date())}`);
  const drop = (name: string, value: string) =>
    name.toLowerCase() === 'authentication-results' && isForgedAuthResults(value, config.server.hostname);

  try {
    // Message-ID and Date go in before signing, so the signature covers them.
    if (added.length) spooled = await mail.rewriteHeaders(spooled, { prepend: added, drop });
  } catch (err) {
    log.error({ err, queueId }, 'adding headers failed');
    throw fail(REPLIES.localError(), spooled);
  }
  let signature: string[] = [];
  if (deps.dkim) {
    const first = from.addresses[0]!;
    try {
      signature = headerLines(
        await deps.dkim.sign(spooled.path, first.slice(first.lastIndexOf('@') + 1).toLowerCase()),
      );
    } catch (err) {
      log.error({ err, queueId }, 'dkim signing failed');
      throw fail(REPLIES.localError(), spooled);
    }
  }
  try {
    // Also when there is nothing to add: the file was spooled unsynced, and a forged Authentication-Results goes.
    if (signature.length || !spooled.synced) spooled = await mail.rewriteHeaders(spooled, { prepend: signature, drop });
  } catch (err) {
    log.error({ err, queueId }, 'adding headers failed');
    throw fail(REPLIES.localError(), spooled);
  }

  const all = sent ? [...targets, sent] : targets;
  const base = { messageId: spooled.headers.messageId, queueId, sender, remoteIp: session.remoteAddress, reason: null };
  const events: NewDeliveryEvent[] = [
    {
      ...base,
      type: 'RECEIVED',
      recipients: rcpts,
      domain: user.domain,
      userEmail: user.email,
      details: {
        submission: true,
        user: user.email,
        tls: session.secure,
        size: spooled.size,
        helo: session.hostNameAppearsAs,
        ...(sent && { sentCopy: sent.mailboxName }),
      },
    },
    ...targets.map((t) => ({
      ...base,
      type: 'DELIVERED_LOCAL' as const,
      recipients: [t.email],
      domain: t.email.split('@')[1]!,
      userEmail: t.email,
      details: { size: spooled.size, submission: true },
    })),
    ...(remote.size
      ? [
          {
            ...base,
            type: 'QUEUED' as const,
            recipients: [...remote.values()].map((r) => r.recipient),
            domain: user.domain,
            userEmail: user.email,
            details: { origin: 'submission' },
          },
        ]
      : []),
  ];
  const expiresAt = Date.now() + config.queue.max_age_days * 86_400_000;
  const dsn = envelope.dsn;
  // NOTIFY=SUCCESS of recipients delivered here: this server is their final MTA and reports it (RFC 3461 4.1).
  const successFor = sender
    ? (envelope.rcptTo as SMTPServerAddress[]).filter(
        (r) =>
          r.dsn?.notify?.some((n) => n.toUpperCase() === 'SUCCESS') &&
          (st.accepted.get(r.address.toLowerCase())?.local.length ?? 0) > 0,
      )
    : [];
  const original = successFor.length ? await mail.headerSection(spooled) : null;
  try {
    await mail.deliver(
      spooled,
      all,
      events,
      [...remote.values()].map((r) => ({
        queue_id: queueId,
        sender,
        recipient: r.recipient,
        recipient_domain: r.recipient.slice(r.recipient.lastIndexOf('@') + 1).toLowerCase(),
        user_id: user.id,
        expires_at: expiresAt,
        dsn_envid: dsn?.envid ?? null,
        dsn_ret: dsn?.ret ?? null,
        dsn_notify: r.notify,
        dsn_orcpt: r.orcpt,
        dsn_to: sender,
        origin: 'submission' as const,
      })),
    );
  } catch (err) {
    log.error({ err, queueId }, 'delivery failed');
    throw fail(REPLIES.localError(), spooled);
  }
  log.info(
    {
      queueId,
      user: user.email,
      from: sender,
      to: rcpts,
      mailboxes: all.map((t) => `${t.email}/${t.mailboxName}`),
      queued: [...remote.values()].map((r) => r.recipient),
      size: spooled.size,
      ip: session.remoteAddress,
    },
    'message submitted',
  );
  if (original)
    void sendDeliveredNotice(
      { config, mail, directory: deps.repos, log },
      {
        to: sender,
        queueId,
        envid: dsn?.envid ?? null,
        arrivalDate: new Date(),
        recipients: successFor.map((r) => ({ finalRecipient: r.address, originalRecipient: r.dsn?.orcpt ?? null })),
        original: Buffer.from(original),
      },
    ).catch((err) => log.error({ err, queueId }, 'delivery status notification failed'));
  st.accepted.clear();
  return `2.0.0 Ok: queued as ${queueId}`;
}
