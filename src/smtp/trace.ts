/**
 * Trace headers prepended on delivery (RFC 5321 4.4): Return-Path, Received and, for a single mailbox,
 * Delivered-To. Rules: "for <rcpt>" appears only when the transaction has one recipient and Delivered-To only
 * when the message goes to one mailbox (as Postfix does), so one file can be hard-linked into every recipient's
 * mailbox otherwise. Authenticated submission says so (RFC 3848: ESMTPA / ESMTPSA) and names the authenticated
 * user as Postfix does ("(Authenticated sender: alice@example.com)", after the TLS comment); the client's
 * address stays in the header there too, as Postfix keeps it.
 */
export interface TraceInput {
  sender: string;
  helo: string;
  clientHostname: string | null;
  remoteAddress: string;
  hostname: string;
  protocol: 'ESMTP' | 'ESMTPS' | 'SMTP' | 'ESMTPA' | 'ESMTPSA';
  queueId: string;
  /** The envelope recipient when the transaction has exactly one ("for <...>" in Received). */
  recipient: string | null;
  /** The mailbox address when the message goes to exactly one mailbox. */
  deliveredTo: string | null;
  tls?: { version: string | null; cipher: string | null } | null;
  /** The SMTP AUTH identity of an authenticated submission. */
  authenticatedSender?: string | null;
  date?: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** RFC 5322 date-time in UTC: "Mon, 23 Nov 2026 22:40:12 +0000". */
export function rfc5322Date(d: Date): string {
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000`;
}

const clean = (s: string) => s.replace(/[\r\n()\\]/g, '').slice(0, 255);

export function traceHeaders(t: TraceInput): Buffer {
  const from = `${clean(t.helo || 'unknown')} (${clean(t.clientHostname ?? 'unknown')} [${clean(t.remoteAddress)}])`;
  const tls = t.tls?.version
    ? `\r\n\t(using ${clean(t.tls.version)} with cipher ${clean(t.tls.cipher ?? 'unknown')})`
    : '';
  const auth = t.authenticatedSender ? `\r\n\t(Authenticated sender: ${clean(t.authenticatedSender)})` : '';
  const forClause = t.recipient ? `\r\n\tfor <${clean(t.recipient)}>` : '';
  const lines = [
    `Return-Path: <${clean(t.sender)}>`,
    ...(t.deliveredTo ? [`Delivered-To: ${clean(t.deliveredTo)}`] : []),
    `Received: from ${from}${tls}${auth}\r\n\tby ${clean(t.hostname)} (Mailyard) with ${t.protocol} id ${t.queueId}${forClause};\r\n\t${rfc5322Date(t.date ?? new Date())}`,
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}
