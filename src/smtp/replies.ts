/**
 * SMTP replies: the one place where a verdict becomes a reply code and an enhanced status code (RFC 3463).
 * Rules: every reply Mailyard itself sends (a refusal from a handler) is a named entry of REPLIES and reaches
 * smtp-server as replyError(entry); the enhanced code is always the entry's own, never smtp-server's guess.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { CheckResult } from '../policy/verdict.ts';

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;
let installed = false;

/**
 * Why smtp-server's connection `send` is patched: smtp-server writes every reply through
 * SMTPConnection#send(code, text, context), which inserts an enhanced status code after the reply code, chosen
 * from the reply code alone or from its own command context (554 -> 5.6.0, 421 -> 4.4.2, 550 -> 5.1.1). A
 * handler's error sets only the reply code (err.responseCode) and the text, so "554 5.7.1 Relay access denied"
 * would go out as "554 5.6.0 5.7.1 ...": two codes, the first one wrong. The only switch smtp-server offers,
 * hideENHANCEDSTATUSCODES, is server-wide: it would also strip the codes from smtp-server's own replies and drop
 * ENHANCEDSTATUSCODES from EHLO. So `send` is wrapped on the class prototype, once: a text that starts with an
 * enhanced code is sent with context `false` (smtp-server's "no enhanced code"), so it goes out as given;
 * every other reply is untouched. This leans on smtp-server internals (the class exported at
 * smtp-server/lib/smtp-connection.js being the one the server instantiates, the method's name and signature,
 * context === false): test/smtp/replies.test.ts fails if an upgrade breaks any of them.
 */
export function useExplicitEnhancedCodes(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as {
    send(code: number, data: unknown, context?: unknown): unknown;
  };
  const original = proto.send;
  proto.send = function (this: unknown, code: number, data: unknown, context?: unknown) {
    return original.call(this, code, data, typeof data === 'string' && ENHANCED.test(data) ? false : context);
  };
}

export type RejectReason =
  | 'unknown_user'
  | 'relay_denied'
  | 'disabled'
  | 'quota'
  | 'size'
  | 'too_many_recipients'
  | 'bad_address'
  | 'local_error'
  | 'rate_limit'
  | 'too_many_errors'
  | 'auth_required'
  | 'auth_failed'
  | 'sender_not_owned'
  | 'sender_disabled'
  | 'no_from'
  | 'greylisted'
  | 'policy_mismatch'
  | 'spf_fail'
  | 'dmarc_reject'
  | 'virus_detected'
  | 'spam'
  | 'scanner_unavailable'
  | 'policy';

export interface Reply {
  code: number;
  enhanced: string;
  text: string;
  reason: RejectReason;
}

export const replyError = (r: Reply) =>
  Object.assign(new Error(`${r.enhanced} ${r.text}`), { responseCode: r.code, reason: r.reason });

export const REPLIES = {
  unknownUser: (a: string): Reply => ({
    code: 550,
    enhanced: '5.1.1',
    text: `<${a}>: Recipient address rejected: User unknown`,
    reason: 'unknown_user',
  }),
  relayDenied: (a: string): Reply => ({
    code: 554,
    enhanced: '5.7.1',
    text: `<${a}>: Relay access denied`,
    reason: 'relay_denied',
  }),
  badAddress: (a: string): Reply => ({
    code: 501,
    enhanced: '5.1.3',
    text: `<${a}>: Bad recipient address syntax`,
    reason: 'bad_address',
  }),
  userDisabled: (a: string): Reply => ({
    code: 550,
    enhanced: '5.2.1',
    text: `<${a}>: Mailbox disabled, not accepting messages`,
    reason: 'disabled',
  }),
  domainDisabled: (d: string): Reply => ({
    code: 550,
    enhanced: '5.7.1',
    text: `Domain ${d} is not accepting mail`,
    reason: 'disabled',
  }),
  overQuotaRcpt: (a: string): Reply => ({
    code: 452,
    enhanced: '4.2.2',
    text: `<${a}>: Mailbox full, try again later`,
    reason: 'quota',
  }),
  overQuotaData: (a: string): Reply => ({
    code: 552,
    enhanced: '5.2.2',
    text: `<${a}>: Mailbox full: message exceeds the quota`,
    reason: 'quota',
  }),
  overQuotaDataTemp: (a: string): Reply => ({
    code: 452,
    enhanced: '4.2.2',
    text: `<${a}>: Mailbox full, try again later`,
    reason: 'quota',
  }),
  tooBig: (max: number): Reply => ({
    code: 552,
    enhanced: '5.3.4',
    text: `Message size exceeds the limit of ${max} bytes`,
    reason: 'size',
  }),
  tooManyRecipients: (max: number): Reply => ({
    code: 452,
    enhanced: '4.5.3',
    text: `Too many recipients (at most ${max} per message)`,
    reason: 'too_many_recipients',
  }),
  localError: (): Reply => ({
    code: 451,
    enhanced: '4.3.0',
    text: 'Local error in processing, try again later',
    reason: 'local_error',
  }),
  /** Refuses the connection (smtp.max_connections_per_ip); 421 closes it. */
  tooManyConnections: (): Reply => ({
    code: 421,
    enhanced: '4.7.0',
    text: 'Too many connections from your address, try again later',
    reason: 'rate_limit',
  }),
  /** Ends a session after smtp.max_errors refusals; 421 closes it. */
  tooManyErrors: (): Reply => ({
    code: 421,
    enhanced: '4.7.0',
    text: 'Too many errors, closing connection',
    reason: 'too_many_errors',
  }),
  /** RFC 4954 6: a wrong password, an unknown user, a disabled user or domain, a blocked client (all told the same);
   * `text` only when only an app password may log in (auth/login.ts). */
  authFailed: (text = 'Authentication credentials invalid'): Reply => ({
    code: 535,
    enhanced: '5.7.8',
    text,
    reason: 'auth_failed',
  }),
  /** AUTH on a plaintext connection of a STARTTLS port (RFC 4954 4, RFC 5248: 5.7.11). */
  encryptionRequired: (): Reply => ({
    code: 538,
    enhanced: '5.7.11',
    text: 'Encryption required: issue STARTTLS before AUTH',
    reason: 'auth_required',
  }),
  /** The client address used up its ratelimit_auth_per_ip of failed attempts (RFC 4954 6: 454 4.7.0, temporary). */
  authRateLimited: (): Reply => ({
    code: 454,
    enhanced: '4.7.0',
    text: 'Too many failed authentication attempts, try again later',
    reason: 'rate_limit',
  }),
  authRequired: (): Reply => ({
    code: 530,
    enhanced: '5.7.0',
    text: 'Authentication required',
    reason: 'auth_required',
  }),
  /** Submission: MAIL FROM (or a From header address) that is not the user's address, plus-address or alias. */
  senderNotOwned: (address: string, user: string): Reply => ({
    code: 553,
    enhanced: '5.7.1',
    text: `<${address}>: Sender address rejected: not owned by user ${user}`,
    reason: 'sender_not_owned',
  }),
  /** Submission: the user (or their domain) was disabled after AUTH, in the same session. */
  senderDisabled: (user: string): Reply => ({
    code: 550,
    enhanced: '5.7.1',
    text: `Account ${user} is not allowed to send mail`,
    reason: 'sender_disabled',
  }),
  /** Submission: a message without a From header (or none with an address): DKIM signing and DMARC need it. */
  noFrom: (): Reply => ({
    code: 550,
    enhanced: '5.6.0',
    text: 'Message has no From header with an address (RFC 5322 3.6.2)',
    reason: 'no_from',
  }),
  /** The recipient domain's ratelimit_smtp_* rule is used up for this client, sender domain or user. */
  rateLimited: (retryAfterS: number): Reply => ({
    code: 451,
    enhanced: '4.7.1',
    text: `Rate limit exceeded, try again in ${Math.max(1, Math.ceil(retryAfterS))} seconds`,
    reason: 'rate_limit',
  }),
  greylisted: (retryAfterS: number): Reply => ({
    code: 451,
    enhanced: '4.7.1',
    text: `Greylisted, please try again in ${Math.max(1, Math.ceil(retryAfterS))} seconds`,
    reason: 'greylisted',
  }),
  /**
   * A recipient whose domain judges message content differently from the recipients already accepted: one DATA
   * reply cannot be right for both, so it waits for a transaction of its own (RFC 5321 3.3: the client retries
   * 452 recipients later). No backscatter: nothing is accepted and then bounced.
   */
  policyMismatch: (a: string): Reply => ({
    code: 452,
    enhanced: '4.5.3',
    text: `<${a}>: Recipient has a different content policy, send it in a separate transaction`,
    reason: 'policy_mismatch',
  }),
  /** RFC 7372: 5.7.23 is "SPF validation failed". */
  spfFail: (explanation: string): Reply => ({
    code: 550,
    enhanced: '5.7.23',
    text: `SPF validation failed${explanation ? `: ${explanation}` : ''}`,
    reason: 'spf_fail',
  }),
  dmarcReject: (domain: string): Reply => ({
    code: 550,
    enhanced: '5.7.1',
    text: `Message rejected by the DMARC policy of ${domain || 'the sender domain'}`,
    reason: 'dmarc_reject',
  }),
  virus: (signature: string): Reply => ({
    code: 554,
    enhanced: '5.7.1',
    text: `Message rejected: virus found (${signature})`,
    reason: 'virus_detected',
  }),
  spam: (score: number): Reply => ({
    code: 550,
    enhanced: '5.7.1',
    text: `Message rejected as spam (score ${score.toFixed(1)})`,
    reason: 'spam',
  }),
  /** A scanner that is down or timed out, when the domain asks to refuse rather than accept unscanned mail. */
  scannerUnavailable: (what: string): Reply => ({
    code: 451,
    enhanced: '4.7.1',
    text: `${what} is temporarily unavailable, try again later`,
    reason: 'scanner_unavailable',
  }),
  /** Any other policy refusal (kept generic: what a check found is in the log and the delivery event). */
  policyReject: (text: string): Reply => ({ code: 550, enhanced: '5.7.1', text, reason: 'policy' }),
  policyTempfail: (text: string): Reply => ({ code: 451, enhanced: '4.7.1', text, reason: 'policy' }),
} as const;

/**
 * The one mapping from a policy verdict (the decisive check result, src/policy/verdict.ts) to an SMTP reply.
 * Only tempfail and reject produce a reply; accept, tag and quarantine end in 250.
 */
export function verdictReply(r: CheckResult): Reply {
  const d = r.detail ?? {};
  if (r.action === 'tempfail') {
    if (r.check === 'ratelimit') return REPLIES.rateLimited(Number(d.retry_after_s ?? 60));
    if (r.check === 'greylist') return REPLIES.greylisted(Number(d.retry_after_s ?? 300));
    if (r.check === 'clamav') return REPLIES.scannerUnavailable('Virus scanning');
    if (r.check === 'spam') return REPLIES.scannerUnavailable('Spam filtering');
    return REPLIES.policyTempfail(r.text ?? 'Temporary policy failure, try again later');
  }
  if (r.check === 'spf') return REPLIES.spfFail(r.text ?? '');
  if (r.check === 'dmarc') return REPLIES.dmarcReject(String(d.domain ?? ''));
  if (r.check === 'clamav' && r.reason === 'virus_detected') return REPLIES.virus(String(d.signature ?? 'unknown'));
  if (r.check === 'clamav') return REPLIES.policyReject('Message could not be scanned for viruses');
  if (r.check === 'spam' && r.reason === 'spam') return REPLIES.spam(Number(d.score ?? 0));
  return REPLIES.policyReject(r.text ?? 'Message rejected by policy');
}
