/**
 * A queue row as plain JSON for the REST API and `mailyard queue list --json`. Rules: snake_case names as the rest
 * of the REST shim; times are epoch milliseconds; the spool file path and DSN routing details stay internal.
 */
import type { QueueRow } from '../repos/rows.ts';

export const queueEntryJson = (q: QueueRow) => ({
  id: q.id,
  queue_id: q.queue_id,
  sender: q.sender,
  recipient: q.recipient,
  recipient_domain: q.recipient_domain,
  size: q.size,
  status: q.status,
  attempts: q.attempts,
  next_attempt_at: q.next_attempt_at,
  last_attempt_at: q.last_attempt_at,
  last_error: q.last_error,
  last_code: q.last_code,
  last_mx: q.last_mx,
  origin: q.origin,
  dsn_notify: q.dsn_notify,
  dsn_ret: q.dsn_ret,
  dsn_envid: q.dsn_envid,
  created_at: q.created_at,
  expires_at: q.expires_at,
});

export type QueueEntryJson = ReturnType<typeof queueEntryJson>;
