/**
 * Connects IMAP sessions to the event bus. Rules: one bus subscription for all sessions; a `mailbox.changed`
 * event is handed to every session that has that mailbox selected (IDLE sessions answer at once, others at their
 * next command); \Recent (RFC 3501 2.3.2) is tracked in memory: a message is recent for the first read-write
 * session that sees it, and nothing is recent after a restart; sessions per user are counted for the limit.
 */
import type { EventBus } from '../events/bus.ts';
import type { Topics } from '../events/topics.ts';

export type MailboxChange = Topics['mailbox.changed'];

export interface MailboxListener {
  onMailboxChange(change: MailboxChange): void;
}

export class ImapHub {
  private byMailbox = new Map<number, Set<MailboxListener>>();
  private recentClaimed = new Map<number, number>();
  private perUser = new Map<number, number>();
  private unsubscribe: () => void;

  constructor(bus: EventBus) {
    this.unsubscribe = bus.subscribe('mailbox.changed', (c) => {
      const set = this.byMailbox.get(c.mailboxId);
      if (set) for (const l of set) l.onMailboxChange(c);
    });
  }

  watch(mailboxId: number, l: MailboxListener): () => void {
    let set = this.byMailbox.get(mailboxId);
    if (!set) {
      set = new Set();
      this.byMailbox.set(mailboxId, set);
    }
    set.add(l);
    return () => {
      set.delete(l);
      if (!set.size) this.byMailbox.delete(mailboxId);
    };
  }

  /** Claims every UID above what was claimed before; returns the claimed ones (they are \Recent for the caller). */
  claimRecent(mailboxId: number, uids: readonly number[]): Set<number> {
    const before = this.recentClaimed.get(mailboxId) ?? 0;
    const out = new Set<number>();
    let max = before;
    for (const u of uids)
      if (u > before) {
        out.add(u);
        if (u > max) max = u;
      }
    this.recentClaimed.set(mailboxId, max);
    return out;
  }

  /** Highest UID claimed so far (for mailboxes opened read-only or not selected: STATUS RECENT). */
  recentFloor(mailboxId: number): number {
    return this.recentClaimed.get(mailboxId) ?? 0;
  }

  /** Counts a session of `userId`; returns false (and counts nothing) when `limit` is reached. */
  enter(userId: number, limit: number): boolean {
    const n = this.perUser.get(userId) ?? 0;
    if (limit > 0 && n >= limit) return false;
    this.perUser.set(userId, n + 1);
    return true;
  }

  leave(userId: number): void {
    const n = (this.perUser.get(userId) ?? 1) - 1;
    if (n <= 0) this.perUser.delete(userId);
    else this.perUser.set(userId, n);
  }

  close(): void {
    this.unsubscribe();
  }
}
