/**
 * SMTP replies: the one place where a verdict becomes a reply code and an enhanced status code (RFC 3463).
 * Rules: every reply Mailyard itself sends (a refusal from a handler) is a named entry of REPLIES and reaches
 * smtp-server as replyError(entry); the enhanced code is always the entry's own, never smtp-server's guess.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

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
  | 'auth_unavailable'
  | 'auth_required';

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
  /** AUTH on submission/SMTPS until authenticated submission exists (temporary: clients retry later). */
  authUnavailable: (): Reply => ({
    code: 454,
    enhanced: '4.7.0',
    text: 'Authentication is not available yet, try again later',
    reason: 'auth_unavailable',
  }),
  authRequired: (): Reply => ({
    code: 530,
    enhanced: '5.7.0',
    text: 'Authentication required',
    reason: 'auth_required',
  }),
} as const;
