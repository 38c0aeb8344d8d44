/**
 * Which delivery status notifications (RFC 3464) an attempt calls for, and sending them. Rules: never for a
 * message with the null sender or for a notification itself (origin `dsn`); NOTIFY (RFC 3461 4.1) decides per
 * recipient: NEVER -> none; absent -> failures and delays (the implementation default); `failed` when a recipient
 * bounced; `delayed` once a message waited queue.delay_warning_hours (0: never), once per recipient; `relayed` when
 * NOTIFY asked for SUCCESS and the next server does not speak DSN (it cannot report success for us). One
 * notification per message and kind, covering all its recipients of that attempt; RET decides how much of the
 * original is returned (failures: the whole message up to 1 MiB by default, else headers).
 */
import { readFile } from 'node:fs/promises';
import type { QueueRow } from '../repos/rows.ts';
import { buildDsn } from './dsn.ts';
import type { InjectDeps } from './inject.ts';
import { injectNotice } from './inject.ts';
import type { Attempt } from './reply.ts';

export type NoticeKind = 'failed' | 'delayed' | 'relayed';

const MAX_RETURNED = 1024 * 1024;

export function wants(row: QueueRow, kind: NoticeKind): boolean {
  if (!row.dsn_to || row.origin === 'dsn') return false;
  const notify = (row.dsn_notify ?? '').toUpperCase();
  if (!notify) return kind !== 'relayed';
  if (notify.includes('NEVER')) return false;
  return notify.includes(kind === 'failed' ? 'FAILURE' : kind === 'delayed' ? 'DELAY' : 'SUCCESS');
}

export async function sendNotice(
  deps: InjectDeps,
  kind: NoticeKind,
  rows: { row: QueueRow; attempt: Attempt }[],
  willRetryUntil?: Date,
): Promise<void> {
  if (!rows.length) return;
  const first = rows[0]!.row;
  let original: Buffer;
  try {
    original = await readFile(first.spool_file);
  } catch (err) {
    deps.log.error({ err, queueId: first.queue_id }, 'notification not sent: the queued message is unreadable');
    return;
  }
  const message = buildDsn({
    reportingMta: deps.config.server.hostname ?? 'localhost',
    to: first.dsn_to!,
    envid: first.dsn_envid,
    arrivalDate: new Date(first.created_at),
    action: kind,
    recipients: rows.map(({ row, attempt }) => ({
      finalRecipient: row.recipient,
      originalRecipient: row.dsn_orcpt,
      status: attempt.status,
      remoteMta: attempt.mx,
      diagnostic: attempt.remote ? attempt.text : null,
      lastAttemptDate: new Date(),
      ...(willRetryUntil && { willRetryUntil }),
    })),
    original,
    ret: kind === 'failed' ? ((first.dsn_ret as 'FULL' | 'HDRS' | null) ?? 'FULL') : 'HDRS',
    maxOriginalBytes: MAX_RETURNED,
  });
  const where = await injectNotice(deps, { to: first.dsn_to!, message, queueId: first.queue_id, reason: kind });
  deps.log.info(
    { queueId: first.queue_id, to: first.dsn_to, kind, recipients: rows.map((r) => r.row.recipient), where },
    'delivery status notification sent',
  );
}

/**
 * RFC 3461 4.1 NOTIFY=SUCCESS for recipients delivered here (the final delivery MTA reports success): one
 * `delivered` report to the envelope sender, with the original's header section only.
 */
export async function sendDeliveredNotice(
  deps: InjectDeps,
  opts: {
    to: string;
    queueId: string;
    envid: string | null;
    arrivalDate: Date;
    recipients: { finalRecipient: string; originalRecipient: string | null }[];
    original: Buffer;
  },
): Promise<void> {
  if (!opts.to || !opts.recipients.length) return;
  const message = buildDsn({
    reportingMta: deps.config.server.hostname ?? 'localhost',
    to: opts.to,
    envid: opts.envid,
    arrivalDate: opts.arrivalDate,
    action: 'delivered',
    recipients: opts.recipients.map((r) => ({ ...r, status: '2.0.0', lastAttemptDate: new Date() })),
    original: opts.original,
    ret: 'HDRS',
  });
  const where = await injectNotice(deps, { to: opts.to, message, queueId: opts.queueId, reason: 'delivered' });
  deps.log.info(
    {
      queueId: opts.queueId,
      to: opts.to,
      kind: 'delivered',
      recipients: opts.recipients.map((r) => r.finalRecipient),
      where,
    },
    'delivery status notification sent',
  );
}
