/**
 * SMTP replies: the one place where a verdict becomes a reply code and an enhanced status code (RFC 3463).
 * smtp-server derives the enhanced code from the reply code alone (554 -> 5.6.0), which cannot say "554 5.7.1
 * relaying denied"; so a reply text that starts with its own enhanced code is sent as given (installed once by
 * useExplicitEnhancedCodes()).
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;
let installed = false;

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
  | 'local_error';

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
} as const;
