/**
 * The typed topics of the event bus and their payloads. Rules: a payload describes a change that is already
 * committed; it carries ids and names, never live database handles, so it can cross a process boundary
 * (a Redis transport later) as JSON.
 */
import type { DeliveryEventType } from '../repos/rows.ts';

export type ChangeAction = 'created' | 'updated' | 'deleted';

export interface DeliveryEvent {
  id: number;
  type: DeliveryEventType;
  at: number;
  messageId: string | null;
  queueId: string | null;
  sender: string | null;
  recipients: string[];
  domain: string | null;
  userEmail: string | null;
  remoteIp: string | null;
  reason: string | null;
  details: Record<string, unknown> | null;
}

export interface Topics {
  /** A domain (or the `_default` template) was created, changed or deleted. */
  'domain.changed': { name: string; action: ChangeAction; fields: string[] };
  'user.changed': { email: string; domain: string; action: ChangeAction; fields: string[] };
  'alias.changed': { address: string; domain: string; action: ChangeAction };
  /** Mailbox contents changed (new message, flags, expunge): IMAP sessions and IDLE listen. */
  'mailbox.changed': {
    userId: number;
    mailboxId: number;
    kind: 'exists' | 'flags' | 'expunge' | 'created' | 'deleted' | 'renamed';
    uids: number[];
    modseq: number;
  };
  /** Every step on a message's path; also stored in delivery_events. */
  delivery: DeliveryEvent;
  'queue.changed': { queueId: string; status: string };
  /** An app password was created or revoked (its secret is never in an event). */
  'appPassword.changed': { email: string; id: number; action: ChangeAction };
  /** A blocked_ips entry was set (block, blacklist, allow) or removed. */
  'blockedIp.changed': { ip: string; kind: 'auto' | 'manual' | 'allow'; action: ChangeAction };
  /** A login was refused (wrong password or code, blocked client or account, disabled user); no secret in it. */
  'auth.failed': { protocol: 'imap' | 'smtp' | 'api'; ip: string; account: string; reason: string };
  'audit.recorded': { id: number; actor: string; action: string; targetType: string; target: string };
}

export type Topic = keyof Topics;
