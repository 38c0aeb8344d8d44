/**
 * Messages repository (the IMAP view of the index). Rules: a UID is the mailbox's uidnext at insert time; every
 * change (insert, flag change, expunge) takes a new mod-sequence from the mailbox's highestmodseq (RFC 7162 3.1),
 * one per operation; expunged UIDs are remembered in mailbox_expunges with that mod-sequence; used_bytes changes in
 * the same transaction as the rows it counts; quota (bytes, 0 = unlimited) is checked inside the transaction that
 * would exceed it; writes commit, then publish `mailbox.changed`.
 */
import { and, asc, eq, gt, gte, inArray, lte, sql } from 'drizzle-orm';
import { type MessageRow, mailboxExpunges, mailboxes, messages, users } from '../../schema/db/tables.ts';
import type { Db, Tx } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import { NotFoundError } from './errors.ts';
import { releaseBytes } from './mailboxes.ts';

const COLUMN_OF: Record<string, 'seen' | 'answered' | 'flagged' | 'deleted' | 'draft'> = {
  '\\SEEN': 'seen',
  '\\ANSWERED': 'answered',
  '\\FLAGGED': 'flagged',
  '\\DELETED': 'deleted',
  '\\DRAFT': 'draft',
};

export class OverQuotaError extends Error {
  readonly code = 'OVERQUOTA';
  constructor(message = 'Quota exceeded') {
    super(message);
    this.name = 'OverQuotaError';
  }
}

export type FlagRow = Pick<
  MessageRow,
  | 'uid'
  | 'modseq'
  | 'seen'
  | 'answered'
  | 'flagged'
  | 'deleted'
  | 'draft'
  | 'keywords'
  | 'maildir_name'
  | 'internal_date'
  | 'size'
>;

/** The flags of a row as IMAP names (system flags first, then keywords). */
export function flagsOf(
  r: Pick<MessageRow, 'seen' | 'answered' | 'flagged' | 'deleted' | 'draft'> & { keywords: readonly string[] },
): string[] {
  const out: string[] = [];
  if (r.seen) out.push('\\Seen');
  if (r.answered) out.push('\\Answered');
  if (r.flagged) out.push('\\Flagged');
  if (r.deleted) out.push('\\Deleted');
  if (r.draft) out.push('\\Draft');
  return out.concat(r.keywords);
}

export type StoreMode = 'add' | 'remove' | 'replace';

export interface NewIndexed {
  maildirName: string;
  size: number;
  internalDate: number;
  flags: string[];
  messageId?: string | null;
  subject?: string | null;
  fromAddr?: string | null;
  dateHeader?: number | null;
}

export type FlagState = Pick<MessageRow, 'seen' | 'answered' | 'flagged' | 'deleted' | 'draft' | 'keywords'>;

export interface Expunged {
  uid: number;
  maildirName: string;
  flags: FlagState;
}

export function createMessagesRepo(db: Db, bus: EventBus) {
  const flagSelect = {
    uid: messages.uid,
    modseq: messages.modseq,
    seen: messages.seen,
    answered: messages.answered,
    flagged: messages.flagged,
    deleted: messages.deleted,
    draft: messages.draft,
    keywords: messages.keywords,
    maildir_name: messages.maildir_name,
    internal_date: messages.internal_date,
    size: messages.size,
  };
  const uidsStmt = db.$client.prepare('select uid from messages where mailbox_id = ? order by uid').pluck();
  const uidsAboveStmt = db.$client
    .prepare('select uid from messages where mailbox_id = ? and uid > ? order by uid')
    .pluck();

  const rowsRange = db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.mailbox_id, sql.placeholder('mailboxId')),
        gte(messages.uid, sql.placeholder('lo')),
        lte(messages.uid, sql.placeholder('hi')),
      ),
    )
    .orderBy(asc(messages.uid))
    .prepare();

  /** Takes the next mod-sequence of a mailbox (inside a transaction). */
  const bumpModseq = (tx: Tx, mailboxId: number): number => {
    const r = tx
      .update(mailboxes)
      .set({ highestmodseq: sql`${mailboxes.highestmodseq} + 1` })
      .where(eq(mailboxes.id, mailboxId))
      .returning({ modseq: mailboxes.highestmodseq })
      .get();
    if (!r) throw new NotFoundError('mailbox', String(mailboxId));
    return r.modseq;
  };

  const namesStmt = db.$client.prepare('select maildir_name from messages where mailbox_id = ?').pluck();

  const repo = {
    /** The Maildir base names of a mailbox's messages (to tell which files are indexed). */
    maildirNames(mailboxId: number): Set<string> {
      return new Set(namesStmt.all(mailboxId) as string[]);
    },

    /** Every UID of a mailbox, ascending. */
    uids(mailboxId: number): number[] {
      return uidsStmt.all(mailboxId) as number[];
    },

    /** UIDs above `uid`, ascending (new messages since a session last looked). */
    uidsAbove(mailboxId: number, uid: number): number[] {
      return uidsAboveStmt.all(mailboxId, uid) as number[];
    },

    /** Full rows for the given UIDs (ascending; missing UIDs are skipped). */
    rows(mailboxId: number, uids: readonly number[]): MessageRow[] {
      if (!uids.length) return [];
      // Mostly a run of UIDs (FETCH 1:50): one prepared range query, filtered, instead of building an IN list.
      let lo = uids[0]!;
      let hi = lo;
      for (const u of uids) {
        if (u < lo) lo = u;
        if (u > hi) hi = u;
      }
      if (hi - lo < 2 * uids.length + 16) {
        const range = rowsRange.all({ mailboxId, lo, hi });
        const want = new Set(uids);
        return want.size === hi - lo + 1 ? range : range.filter((r) => want.has(r.uid));
      }
      const out: MessageRow[] = [];
      for (let i = 0; i < uids.length; i += 500) {
        const part = uids.slice(i, i + 500);
        out.push(
          ...db
            .select()
            .from(messages)
            .where(and(eq(messages.mailbox_id, mailboxId), inArray(messages.uid, part)))
            .all(),
        );
      }
      return out.sort((a, b) => a.uid - b.uid);
    },

    /** Flag rows for every message (for SEARCH/SELECT), ascending by UID. */
    flagRows(mailboxId: number): FlagRow[] {
      return db
        .select(flagSelect)
        .from(messages)
        .where(eq(messages.mailbox_id, mailboxId))
        .orderBy(asc(messages.uid))
        .all();
    },

    /** Messages with a UID above `uid` (STATUS RECENT). */
    countAbove(mailboxId: number, uid: number): number {
      return (
        db
          .select({ n: sql<number>`count(*)` })
          .from(messages)
          .where(and(eq(messages.mailbox_id, mailboxId), gt(messages.uid, uid)))
          .get()?.n ?? 0
      );
    },

    /** UID of the first message without \\Seen, or 0. */
    firstUnseen(mailboxId: number): number {
      const r = db
        .select({ uid: messages.uid })
        .from(messages)
        .where(and(eq(messages.mailbox_id, mailboxId), eq(messages.seen, false)))
        .orderBy(asc(messages.uid))
        .limit(1)
        .get();
      return r?.uid ?? 0;
    },

    /** Messages changed after `modseq` (CONDSTORE CHANGEDSINCE). */
    changedSince(mailboxId: number, modseq: number): FlagRow[] {
      return db
        .select(flagSelect)
        .from(messages)
        .where(and(eq(messages.mailbox_id, mailboxId), gt(messages.modseq, modseq)))
        .orderBy(asc(messages.uid))
        .all();
    },

    /**
     * STORE (RFC 3501 6.4.6, RFC 7162 3.2): changes flags of `uids`. With `unchangedSince`, messages whose modseq
     * is greater are not changed and are returned in `modified`. Only messages whose flags really change get the
     * new mod-sequence. Returns the rows after the change (`changed`) and the renames the Maildir needs.
     */
    store(
      userId: number,
      mailboxId: number,
      uids: readonly number[],
      mode: StoreMode,
      flags: readonly string[],
      unchangedSince?: number,
    ): { changed: FlagRow[]; modified: number[]; renames: { maildirName: string; from: FlagState; to: FlagState }[] } {
      const system = new Set<string>();
      const keywords: string[] = [];
      for (const f of flags) {
        const col = COLUMN_OF[f.toUpperCase()];
        if (col) system.add(col);
        else if (!keywords.some((k) => k.toLowerCase() === f.toLowerCase())) keywords.push(f);
      }
      const result = db.transaction((tx) => {
        const rows = repo.rowsTx(tx, mailboxId, uids);
        let modseq = 0;
        const changed: FlagRow[] = [];
        const modified: number[] = [];
        const renames: { maildirName: string; from: FlagState; to: FlagState }[] = [];
        for (const r of rows) {
          if (unchangedSince !== undefined && r.modseq > unchangedSince) {
            modified.push(r.uid);
            continue;
          }
          const next = applyFlags(r, mode, system, keywords);
          if (sameFlags(r, next)) continue;
          modseq ||= bumpModseq(tx, mailboxId);
          tx.update(messages)
            .set({
              seen: next.seen,
              answered: next.answered,
              flagged: next.flagged,
              deleted: next.deleted,
              draft: next.draft,
              keywords: next.keywords,
              modseq,
            })
            .where(and(eq(messages.mailbox_id, mailboxId), eq(messages.uid, r.uid)))
            .run();
          const after = { ...r, ...next, modseq };
          changed.push(after);
          renames.push({ maildirName: r.maildir_name, from: r, to: after });
        }
        return { changed, modified, renames, modseq };
      });
      if (result.changed.length)
        bus.publish('mailbox.changed', {
          userId,
          mailboxId,
          kind: 'flags',
          uids: result.changed.map((c) => c.uid),
          modseq: result.modseq,
        });
      return result;
    },

    rowsTx(tx: Tx, mailboxId: number, uids: readonly number[]): FlagRow[] {
      if (!uids.length) return [];
      const out: FlagRow[] = [];
      for (let i = 0; i < uids.length; i += 500)
        out.push(
          ...tx
            .select(flagSelect)
            .from(messages)
            .where(and(eq(messages.mailbox_id, mailboxId), inArray(messages.uid, uids.slice(i, i + 500))))
            .all(),
        );
      return out.sort((a, b) => a.uid - b.uid);
    },

    /**
     * Removes messages (EXPUNGE, UID EXPUNGE, MOVE's second half). Without `uids`, every \Deleted message goes;
     * with `uids`, only those that are also \Deleted unless `evenIfNotDeleted`. Returns what was removed.
     */
    expunge(
      userId: number,
      mailboxId: number,
      uids?: readonly number[],
      evenIfNotDeleted = false,
    ): { expunged: Expunged[]; modseq: number } {
      const result = db.transaction((tx) => repo.expungeTx(tx, mailboxId, uids, evenIfNotDeleted, userId));
      if (result.expunged.length)
        bus.publish('mailbox.changed', {
          userId,
          mailboxId,
          kind: 'expunge',
          uids: result.expunged.map((e) => e.uid),
          modseq: result.modseq,
        });
      return result;
    },

    expungeTx(
      tx: Tx,
      mailboxId: number,
      uids: readonly number[] | undefined,
      evenIfNotDeleted: boolean,
      userId: number,
    ): { expunged: Expunged[]; modseq: number } {
      const candidates = uids
        ? repo.rowsTx(tx, mailboxId, uids)
        : tx
            .select(flagSelect)
            .from(messages)
            .where(and(eq(messages.mailbox_id, mailboxId), eq(messages.deleted, true)))
            .all();
      const gone = candidates.filter((r) => evenIfNotDeleted || r.deleted);
      if (!gone.length) return { expunged: [], modseq: 0 };
      const modseq = bumpModseq(tx, mailboxId);
      let bytes = 0;
      for (let i = 0; i < gone.length; i += 500) {
        const part = gone.slice(i, i + 500).map((g) => g.uid);
        const sizes = tx
          .delete(messages)
          .where(and(eq(messages.mailbox_id, mailboxId), inArray(messages.uid, part)))
          .returning({ size: messages.size })
          .all();
        for (const s of sizes) bytes += s.size;
        tx.insert(mailboxExpunges)
          .values(part.map((uid) => ({ mailbox_id: mailboxId, uid, modseq })))
          .onConflictDoUpdate({ target: [mailboxExpunges.mailbox_id, mailboxExpunges.uid], set: { modseq } })
          .run();
      }
      releaseBytes(tx, userId, bytes);
      return {
        expunged: gone.map((g) => ({ uid: g.uid, maildirName: g.maildir_name, flags: g })),
        modseq,
      };
    },

    /** UIDs expunged after `modseq` (QRESYNC VANISHED (EARLIER)). */
    expungedSince(mailboxId: number, modseq: number): number[] {
      return db
        .select({ uid: mailboxExpunges.uid })
        .from(mailboxExpunges)
        .where(and(eq(mailboxExpunges.mailbox_id, mailboxId), gt(mailboxExpunges.modseq, modseq)))
        .orderBy(asc(mailboxExpunges.uid))
        .all()
        .map((r) => r.uid);
    },

    /**
     * Indexes messages whose files are already durable in the mailbox's folder (APPEND, COPY, MOVE). With
     * `moveFrom`, the source messages are expunged in the same transaction (MOVE, RFC 6851). Throws
     * OverQuotaError (nothing changed) if the user's quota would be exceeded (a MOVE within the account is
     * quota-neutral). Returns the new UIDs in input order.
     */
    insert(
      userId: number,
      mailboxId: number,
      items: readonly NewIndexed[],
      quota: number,
      moveFrom?: { mailboxId: number; uids: readonly number[] },
    ): { uids: number[]; uidvalidity: number; modseq: number; expunged?: Expunged[]; expungeModseq?: number } {
      const result = db.transaction((tx) => {
        const added = items.reduce((n, i) => n + i.size, 0);
        const user = tx.select({ used: users.used_bytes }).from(users).where(eq(users.id, userId)).get();
        if (!user) throw new NotFoundError('user', String(userId));
        let expunged: { expunged: Expunged[]; modseq: number } | undefined;
        if (moveFrom) expunged = repo.expungeTx(tx, moveFrom.mailboxId, moveFrom.uids, true, userId);
        const used = tx.select({ used: users.used_bytes }).from(users).where(eq(users.id, userId)).get()!.used;
        if (quota > 0 && added > 0 && used + added > quota) throw new OverQuotaError();
        const box = tx
          .update(mailboxes)
          .set({
            uidnext: sql`${mailboxes.uidnext} + ${items.length}`,
            highestmodseq: sql`${mailboxes.highestmodseq} + 1`,
          })
          .where(eq(mailboxes.id, mailboxId))
          .returning({
            uidnext: mailboxes.uidnext,
            modseq: mailboxes.highestmodseq,
            uidvalidity: mailboxes.uidvalidity,
          })
          .get();
        if (!box) throw new NotFoundError('mailbox', String(mailboxId));
        const first = box.uidnext - items.length;
        const uids = items.map((_, i) => first + i);
        for (let i = 0; i < items.length; i += 200)
          tx.insert(messages)
            .values(
              items.slice(i, i + 200).map((m, j) => {
                const f = new Set(m.flags.map((x) => x.toUpperCase()));
                return {
                  mailbox_id: mailboxId,
                  uid: first + i + j,
                  modseq: box.modseq,
                  seen: f.has('\\SEEN'),
                  answered: f.has('\\ANSWERED'),
                  flagged: f.has('\\FLAGGED'),
                  deleted: f.has('\\DELETED'),
                  draft: f.has('\\DRAFT'),
                  keywords: m.flags.filter((x) => !COLUMN_OF[x.toUpperCase()] && !x.startsWith('\\')),
                  internal_date: m.internalDate,
                  size: m.size,
                  maildir_name: m.maildirName,
                  message_id: m.messageId ?? null,
                  subject: m.subject ?? null,
                  from_addr: m.fromAddr ?? null,
                  date_header: m.dateHeader ?? null,
                };
              }),
            )
            .run();
        if (added)
          tx.update(users)
            .set({ used_bytes: sql`${users.used_bytes} + ${added}` })
            .where(eq(users.id, userId))
            .run();
        return {
          uids,
          uidvalidity: box.uidvalidity,
          modseq: box.modseq,
          expunged: expunged?.expunged,
          expungeModseq: expunged?.modseq,
        };
      });
      if (moveFrom && result.expunged?.length)
        bus.publish('mailbox.changed', {
          userId,
          mailboxId: moveFrom.mailboxId,
          kind: 'expunge',
          uids: result.expunged.map((e) => e.uid),
          modseq: result.expungeModseq!,
        });
      if (result.uids.length)
        bus.publish('mailbox.changed', { userId, mailboxId, kind: 'exists', uids: result.uids, modseq: result.modseq });
      return result;
    },
  };
  return repo;
}

type Flags = Pick<FlagRow, 'seen' | 'answered' | 'flagged' | 'deleted' | 'draft' | 'keywords'>;

function applyFlags(r: Flags, mode: StoreMode, system: Set<string>, keywords: string[]): Flags {
  const cols = ['seen', 'answered', 'flagged', 'deleted', 'draft'] as const;
  const out = { ...r, keywords: [...r.keywords] };
  for (const c of cols) {
    if (mode === 'replace') out[c] = system.has(c);
    else if (system.has(c)) out[c] = mode === 'add';
  }
  const lower = (k: string) => k.toLowerCase();
  if (mode === 'replace') out.keywords = [...keywords];
  else if (mode === 'add') {
    for (const k of keywords) if (!out.keywords.some((x) => lower(x) === lower(k))) out.keywords.push(k);
  } else out.keywords = out.keywords.filter((x) => !keywords.some((k) => lower(k) === lower(x)));
  return out;
}

function sameFlags(a: Flags, b: Flags): boolean {
  return (
    a.seen === b.seen &&
    a.answered === b.answered &&
    a.flagged === b.flagged &&
    a.deleted === b.deleted &&
    a.draft === b.draft &&
    a.keywords.length === b.keywords.length &&
    a.keywords.every((k, i) => k === b.keywords[i])
  );
}

export type MessagesRepo = ReturnType<typeof createMessagesRepo>;
