/**
 * Delivery status notifications (RFC 3464, RFC 3462 multipart/report, RFC 3461 6). Rules: the message comes from
 * `Mail Delivery System <MAILER-DAEMON@reportingMta>` to the original sender, is marked `Auto-Submitted:
 * auto-replied` (RFC 3834) and has CRLF line ends throughout; it has three parts: a human explanation (text/plain,
 * UTF-8), the machine-readable `message/delivery-status` (one per-message block, then one block per recipient),
 * and the original message: `message/rfc822` for a failure with RET=FULL or no RET (the default), unless it is
 * larger than `maxOriginalBytes`, in which case only its header as `text/rfc822-headers`, which is also what
 * RET=HDRS, delay notices and success reports get. Header and field values are sanitized (control characters
 * become spaces, runs of space collapse), diagnostics are limited to MAX_DIAGNOSTIC characters, and long lines
 * are folded at spaces (never beyond 998 octets); UTF-8 addresses are written as they are (SMTPUTF8, rfc822
 * address type); an ORCPT given as `type;xtext` is xtext-decoded (RFC 3461 4.2); a Status that is not a valid
 * RFC 3463 code is replaced by the generic one of its action (5.0.0, 4.0.0, 2.0.0).
 */
import { randomBytes } from 'node:crypto';
import { rfc5322Date } from '../smtp/trace.ts';

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed';

export interface DsnRecipient {
  finalRecipient: string;
  /** ORCPT as given (`rfc822;addr`, xtext-encoded) or a bare address; null/absent: no Original-Recipient. */
  originalRecipient?: string | null;
  /** RFC 3463 status code, e.g. 5.1.1. */
  status: string;
  remoteMta?: string | null;
  /** The remote server's reply, e.g. "550 5.1.1 <bob@example.com>: no such user". */
  diagnostic?: string | null;
  lastAttemptDate?: Date;
  willRetryUntil?: Date;
}

export interface DsnInput {
  reportingMta: string;
  /** The original sender (where the DSN goes). */
  to: string;
  envid?: string | null;
  arrivalDate: Date;
  action: DsnAction;
  recipients: DsnRecipient[];
  original: Buffer;
  ret?: 'FULL' | 'HDRS' | null;
  /** Beyond this many bytes only the original header is returned. */
  maxOriginalBytes?: number;
  /** With or without angle brackets; a fresh one by default. */
  messageId?: string;
  /** The Date of the notice (now by default). */
  date?: Date;
}

export const MAX_DIAGNOSTIC = 900;

const SUBJECTS: Record<DsnAction, string> = {
  failed: 'Undelivered Mail Returned to Sender',
  delayed: 'Delayed Mail (still being retried)',
  delivered: 'Successful Mail Delivery Report',
  relayed: 'Successful Mail Delivery Report',
};

const GENERIC_STATUS: Record<DsnAction, string> = {
  failed: '5.0.0',
  delayed: '4.0.0',
  delivered: '2.0.0',
  relayed: '2.0.0',
};

/** Control characters (C0, DEL, C1) to spaces, runs of whitespace to one space, trimmed. */
export const sanitize = (s: string) =>
  s
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();

/** xtext (RFC 3461 4): "+XX" is the octet of hex XX. */
const xtextDecode = (s: string) =>
  Buffer.from(
    s.replace(/\+([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
    'latin1',
  ).toString('utf8');

/** `Name: value` folded at spaces to lines of about 78 characters (a word longer than that stays whole). */
export function fold(name: string, value: string): string {
  const words = sanitize(value).split(' ');
  const lines: string[] = [];
  let line = `${name}:`;
  for (const w of words) {
    if (line.length + 1 + w.length > 78 && line.trim() !== `${name}:` && line.trim() !== '') {
      lines.push(line);
      line = ` ${w}`;
    } else line += ` ${w}`;
  }
  lines.push(line);
  return lines.join('\r\n');
}

/** Plain text wrapped at spaces to about 76 characters (indentation kept); a longer word is cut at 900. */
function wrap(text: string): string {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    const indent = /^ */.exec(para)![0];
    let line = '';
    for (const w of para.slice(indent.length).split(' ')) {
      for (let word = w; ; ) {
        const piece = word.slice(0, 900);
        if (line && indent.length + line.length + 1 + piece.length > 76) {
          out.push(indent + line);
          line = piece;
        } else line = line ? `${line} ${piece}` : piece;
        word = word.slice(900);
        if (!word) break;
      }
    }
    out.push(indent + line);
  }
  return out.join('\r\n');
}

const angle = (id: string) => (id.startsWith('<') ? id : `<${id}>`);

/** An address for a header or field: sanitized, no angle brackets of its own. */
const addr = (a: string) => sanitize(a).replace(/^<|>$/g, '');

/** The header of a message (up to and including the empty line, or all of it), with CRLF line ends. */
export function headerOf(message: Buffer): Buffer {
  const crlf = message.indexOf('\r\n\r\n');
  const lf = message.indexOf('\n\n');
  const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : message.length;
  return toCrlf(message.subarray(0, end));
}

/** Bare LF and CR line ends to CRLF; a final line end added if missing. */
function toCrlf(b: Buffer): Buffer {
  const s = b.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
  return Buffer.from(s.endsWith('\r\n') || s === '' ? s : `${s}\r\n`, 'latin1');
}

const is8bit = (b: Buffer) => b.some((c) => c > 0x7f);

function humanText(input: DsnInput): string {
  const host = sanitize(input.reportingMta);
  const who = input.recipients.map((r) => {
    const lines = [`<${addr(r.finalRecipient)}>`];
    if (r.remoteMta || r.diagnostic) {
      const said = r.diagnostic ? `said: ${diagnosticOf(r.diagnostic)}` : `accepted the message`;
      lines.push(`    ${r.remoteMta ? `host ${sanitize(r.remoteMta)} ` : 'the remote server '}${said}`);
    }
    return lines.join('\n');
  });
  const intro =
    input.action === 'failed'
      ? "I'm sorry to have to inform you that your message could not be delivered to one or more recipients. " +
        'It is attached below.'
      : input.action === 'delayed'
        ? 'Your message could not be delivered yet to the recipients listed below. The mail system will keep ' +
          'trying; you do not have to send it again. Only its header is attached below.'
        : input.action === 'relayed'
          ? 'Your message was relayed to the recipients listed below, to a system that does not send delivery ' +
            'notifications: it may not report on the final delivery.'
          : 'Your message was successfully delivered to the recipients listed below.';
  const until = input.recipients.map((r) => r.willRetryUntil).find((d) => d);
  const retry =
    input.action === 'delayed' && until ? [`Delivery will be retried until ${rfc5322Date(until)}.`, ''] : [];
  return [
    `This is the mail system at host ${host}.`,
    '',
    intro,
    '',
    ...retry,
    'For further assistance, please contact your postmaster (include this report).',
    '',
    ...who.flatMap((w) => [w, '']),
  ].join('\n');
}

const diagnosticOf = (d: string) => sanitize(d).slice(0, MAX_DIAGNOSTIC);

function deliveryStatus(input: DsnInput): string {
  const perMessage = [fold('Reporting-MTA', `dns; ${sanitize(input.reportingMta)}`)];
  if (input.envid) perMessage.push(fold('Original-Envelope-Id', xtextDecode(input.envid)));
  perMessage.push(`Arrival-Date: ${rfc5322Date(input.arrivalDate)}`);
  const blocks = input.recipients.map((r) => {
    const f: string[] = [];
    if (r.originalRecipient) {
      const o = r.originalRecipient;
      const semi = o.indexOf(';');
      f.push(
        semi > 0
          ? fold('Original-Recipient', `${sanitize(o.slice(0, semi))}; ${addr(xtextDecode(o.slice(semi + 1)))}`)
          : fold('Original-Recipient', `rfc822; ${addr(o)}`),
      );
    }
    f.push(fold('Final-Recipient', `rfc822; ${addr(r.finalRecipient)}`));
    f.push(`Action: ${input.action}`);
    const status = /^[245]\.\d{1,3}\.\d{1,3}$/.test(r.status) ? r.status : GENERIC_STATUS[input.action];
    f.push(`Status: ${status}`);
    if (r.remoteMta) f.push(fold('Remote-MTA', `dns; ${sanitize(r.remoteMta)}`));
    if (r.diagnostic) f.push(fold('Diagnostic-Code', `smtp; ${diagnosticOf(r.diagnostic)}`));
    if (r.lastAttemptDate) f.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttemptDate)}`);
    if (input.action === 'delayed' && r.willRetryUntil) f.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
    return f.join('\r\n');
  });
  return `${[perMessage.join('\r\n'), ...blocks].join('\r\n\r\n')}\r\n`;
}

/** The complete DSN message (see the rules above). */
export function buildDsn(input: DsnInput): Buffer {
  if (!input.to) throw new Error('a DSN needs a recipient (none is sent for the null sender)');
  if (!input.recipients.length) throw new Error('a DSN needs at least one recipient block');
  const host = sanitize(input.reportingMta);
  const full =
    input.action === 'failed' &&
    input.ret !== 'HDRS' &&
    (input.maxOriginalBytes === undefined || input.original.length <= input.maxOriginalBytes);
  const attached = full ? toCrlf(input.original) : headerOf(input.original);

  let boundary: string;
  do boundary = `=_mailyard_${randomBytes(12).toString('hex')}`;
  while (attached.includes(boundary));

  const text = Buffer.from(wrap(humanText(input)), 'utf8');
  const status = Buffer.from(deliveryStatus(input), 'utf8');
  const header = [
    `From: Mail Delivery System <MAILER-DAEMON@${host}>`,
    `To: <${addr(input.to)}>`,
    `Subject: ${SUBJECTS[input.action]}`,
    `Date: ${rfc5322Date(input.date ?? new Date())}`,
    `Message-ID: ${angle(sanitize(input.messageId ?? `${randomBytes(12).toString('hex')}@${host}`))}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    `Content-Transfer-Encoding: ${[text, status, attached].some(is8bit) ? '8bit' : '7bit'}`,
  ].join('\r\n');
  // Every body ends with a line end; the CRLF before the next delimiter belongs to the delimiter (RFC 2046 5.1.1).
  const part = (headers: string[], body: Buffer) =>
    Buffer.concat([Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`), toCrlf(body), Buffer.from('\r\n')]);
  const cte = (b: Buffer) => `Content-Transfer-Encoding: ${is8bit(b) ? '8bit' : '7bit'}`;
  return Buffer.concat([
    Buffer.from(`${header}\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n`),
    part(['Content-Description: Notification', 'Content-Type: text/plain; charset=utf-8', cte(text)], text),
    part(['Content-Description: Delivery report', 'Content-Type: message/delivery-status', cte(status)], status),
    part(
      full
        ? ['Content-Description: Undelivered Message', 'Content-Type: message/rfc822', cte(attached)]
        : [
            `Content-Description: ${input.action === 'failed' ? 'Undelivered Message Headers' : 'Message Headers'}`,
            'Content-Type: text/rfc822-headers',
            cte(attached),
          ],
      attached,
    ),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
}
