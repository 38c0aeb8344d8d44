/**
 * Mailboxes repository (the IMAP folder tree). Rules: names are stored in their IMAP wire form with '/' as the
 * hierarchy delimiter; "INBOX" is matched case-insensitively and can be neither deleted nor renamed away (RFC 3501
 * 6.3.5: renaming INBOX moves its messages into a new mailbox); creating "a/b/c" creates missing parents; deleting
 * a mailbox deletes its messages and lowers the owner's used_bytes in the same transaction; writes commit, then
 * publish `mailbox.changed`.
 */
import { and, asc, count, eq, sql, sum } from 'drizzle-orm';
import { type MailboxRow, mailboxes, messages, users } from '../../schema/db/tables.ts';
import type { Db, Tx } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import { ConflictError, NotFoundError } from './errors.ts';

export const DELIMITER = '/';

export function normalizeMailboxName(name: string): string {
  if (name.toUpperCase() === 'INBOX') return 'INBOX';
  if (name.toUpperCase().startsWith('INBOX/')) return `INBOX${name.slice(5)}`;
  return name;
}

export interface MailboxStatus {
  messages: number;
  unseen: number;
  deleted: number;
  size: number;
  uidnext: number;
  uidvalidity: number;
  highestmodseq: number;
}

/** A removed message whose file the caller deletes after the commit. */
export interface RemovedFile {
  mailboxName: string;
  maildirName: string;
}

export function createMailboxesRepo(db: Db, bus: EventBus) {
  const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
  const children = (userId: number, name: string) =>
    db
      .select()
      .from(mailboxes)
      .where(and(eq(mailboxes.user_id, userId), sql`${mailboxes.name} like ${`${escapeLike(name)}/%`} escape '\\'`))
      .all();

  const repo = {
    list(userId: number): MailboxRow[] {
      return db.select().from(mailboxes).where(eq(mailboxes.user_id, userId)).orderBy(asc(mailboxes.name)).all();
    },

    get(userId: number, name: string): MailboxRow | undefined {
      return db
        .select()
        .from(mailboxes)
        .where(and(eq(mailboxes.user_id, userId), eq(mailboxes.name, normalizeMailboxName(name))))
        .get();
    },

    byId(id: number): MailboxRow | undefined {
      return db.select().from(mailboxes).where(eq(mailboxes.id, id)).get();
    },

    /** Creates `name` and any missing parents; ConflictError if it exists. Returns the created rows. */
    create(userId: number, name: string, specialUse: MailboxRow['special_use'] = null): MailboxRow[] {
      name = normalizeMailboxName(name);
      const created = db.transaction((tx) => {
        if (hasMailbox(tx, userId, name)) throw new ConflictError(`Mailbox ${name} already exists`);
        const parts = name.split(DELIMITER);
        const out: MailboxRow[] = [];
        for (let i = 1; i <= parts.length; i++) {
          const path = parts.slice(0, i).join(DELIMITER);
          if (hasMailbox(tx, userId, path)) continue;
          out.push(
            tx
              .insert(mailboxes)
              .values({
                user_id: userId,
                name: path,
                special_use: i === parts.length ? specialUse : null,
                uidvalidity: nextUidValidity(tx, userId),
              })
              .returning()
              .get(),
          );
        }
        return out;
      });
      for (const m of created)
        bus.publish('mailbox.changed', { userId, mailboxId: m.id, kind: 'created', uids: [], modseq: m.highestmodseq });
      return created;
    },

    /**
     * Deletes a mailbox and its messages (RFC 3501 6.3.4). A mailbox with children is refused only when it has the
     * \Noselect attribute; we have no \Noselect mailboxes, so it is deleted and its children stay.
     */
    delete(userId: number, name: string): { mailbox: MailboxRow; files: RemovedFile[] } {
      name = normalizeMailboxName(name);
      if (name === 'INBOX') throw new ConflictError('INBOX cannot be deleted');
      const result = db.transaction((tx) => {
        const box = tx
          .select()
          .from(mailboxes)
          .where(and(eq(mailboxes.user_id, userId), eq(mailboxes.name, name)))
          .get();
        if (!box) throw new NotFoundError('mailbox', name);
        const files = tx
          .select({ maildirName: messages.maildir_name, size: messages.size })
          .from(messages)
          .where(eq(messages.mailbox_id, box.id))
          .all();
        const bytes = files.reduce((n, f) => n + f.size, 0);
        tx.delete(mailboxes).where(eq(mailboxes.id, box.id)).run();
        releaseBytes(tx, userId, bytes);
        return {
          mailbox: box,
          files: files.map((f) => ({ mailboxName: box.name, maildirName: f.maildirName })),
        };
      });
      bus.publish('mailbox.changed', {
        userId,
        mailboxId: result.mailbox.id,
        kind: 'deleted',
        uids: [],
        modseq: result.mailbox.highestmodseq,
      });
      return result;
    },

    /**
     * Renames a mailbox and its children (RFC 3501 6.3.5). Renaming INBOX creates the new mailbox and moves every
     * INBOX message into it (INBOX stays, empty). Returns the renames done (old and new names) so the caller can
     * move directories; for INBOX, the moved messages.
     */
    rename(
      userId: number,
      from: string,
      to: string,
    ): { renamed: [string, string][]; movedFromInbox?: { target: MailboxRow; uids: number[] } } {
      from = normalizeMailboxName(from);
      to = normalizeMailboxName(to);
      if (to === 'INBOX') throw new ConflictError('Cannot rename a mailbox to INBOX');
      if (from === to) throw new ConflictError('The new name is the current name');
      if (to.startsWith(`${from}${DELIMITER}`)) throw new ConflictError('Cannot rename a mailbox into itself');
      const box = repo.get(userId, from);
      if (!box) throw new NotFoundError('mailbox', from);
      if (repo.get(userId, to)) throw new ConflictError(`Mailbox ${to} already exists`);
      if (from === 'INBOX') {
        const [target] = repo.create(userId, to).slice(-1);
        const moved = db.transaction((tx) => {
          const rows = tx
            .select({ uid: messages.uid })
            .from(messages)
            .where(eq(messages.mailbox_id, box.id))
            .orderBy(asc(messages.uid))
            .all();
          return rows.map((r) => r.uid);
        });
        return { renamed: [], movedFromInbox: { target: target!, uids: moved } };
      }
      const renamed: [string, string][] = [];
      const renamedIds: number[] = [];
      db.transaction((tx) => {
        const kids = children(userId, from);
        for (const m of [box, ...kids]) {
          const newName = to + m.name.slice(from.length);
          if (hasMailbox(tx, userId, newName)) throw new ConflictError(`Mailbox ${newName} already exists`);
          tx.update(mailboxes).set({ name: newName }).where(eq(mailboxes.id, m.id)).run();
          renamed.push([m.name, newName]);
          renamedIds.push(m.id);
        }
        // Missing parents of the new name.
        const parts = to.split(DELIMITER);
        for (let i = 1; i < parts.length; i++) {
          const path = parts.slice(0, i).join(DELIMITER);
          if (!hasMailbox(tx, userId, path))
            tx.insert(mailboxes)
              .values({ user_id: userId, name: path, uidvalidity: nextUidValidity(tx, userId) })
              .run();
        }
      });
      // Every renamed mailbox (children too): sessions that have one selected must use its new folder.
      for (const id of renamedIds)
        bus.publish('mailbox.changed', { userId, mailboxId: id, kind: 'renamed', uids: [], modseq: 0 });
      return { renamed };
    },

    setSubscribed(userId: number, name: string, subscribed: boolean): void {
      const box = repo.get(userId, name);
      if (!box) throw new NotFoundError('mailbox', name);
      db.update(mailboxes).set({ subscribed }).where(eq(mailboxes.id, box.id)).run();
    },

    status(mailboxId: number): MailboxStatus {
      const box = repo.byId(mailboxId);
      if (!box) throw new NotFoundError('mailbox', String(mailboxId));
      const r = db
        .select({
          messages: count(),
          unseen: sql<number>`coalesce(sum(case when ${messages.seen} then 0 else 1 end), 0)`,
          deleted: sql<number>`coalesce(sum(case when ${messages.deleted} then 1 else 0 end), 0)`,
          size: sum(messages.size),
        })
        .from(messages)
        .where(eq(messages.mailbox_id, mailboxId))
        .get()!;
      return {
        messages: r.messages,
        unseen: Number(r.unseen),
        deleted: Number(r.deleted),
        size: Number(r.size ?? 0),
        uidnext: box.uidnext,
        uidvalidity: box.uidvalidity,
        highestmodseq: box.highestmodseq,
      };
    },
  };
  return repo;
}

function hasMailbox(tx: Tx, userId: number, name: string): boolean {
  return !!tx
    .select({ id: mailboxes.id })
    .from(mailboxes)
    .where(and(eq(mailboxes.user_id, userId), eq(mailboxes.name, name)))
    .get();
}

/** Lowers a user's used_bytes (never below 0), in the transaction that removed what they counted. */
export function releaseBytes(tx: Tx, userId: number, bytes: number): void {
  if (bytes)
    tx.update(users)
      .set({ used_bytes: sql`max(0, ${users.used_bytes} - ${bytes})` })
      .where(eq(users.id, userId))
      .run();
}

let lastUidValidity = 0;

/** UIDVALIDITY for a new mailbox (also never one this process issued before, e.g. to a deleted mailbox): seconds since the epoch, strictly greater than any the user has had. */
function nextUidValidity(tx: Tx, userId: number): number {
  const r = tx
    .select({ max: sql<number | null>`max(${mailboxes.uidvalidity})` })
    .from(mailboxes)
    .where(eq(mailboxes.user_id, userId))
    .get();
  lastUidValidity = Math.max(Math.floor(Date.now() / 1000), (r?.max ?? 0) + 1, lastUidValidity + 1);
  return lastUidValidity;
}

export type MailboxesRepo = ReturnType<typeof createMailboxesRepo>;
