/**
 * The mail store: the one service under every front end (SMTP, IMAP; later import, backup, fsck) that changes
 * stored mail. Each operation runs the same sequence, so no front end does it by hand: write the file -> fsync the
 * file and its directory -> commit the index rows, quota and events (repositories) -> on failure remove what it
 * wrote -> release the hold that kept the Maildir pickup away from the file (held.ts). Rules: a file is durable
 * before its row commits, so a committed row always has its file; files of removed messages are unlinked only after
 * the commit that removed their rows, and flag renames follow the commit too (the index is the truth; readers
 * find a file under other flag letters: mailboxFiles.ts); quota is checked inside the commit that would exceed it
 * (OverQuotaError), with the effective quota of repos/users.ts; a missing mailbox is NotFoundError, a name clash
 * ConflictError (repos/errors.ts), so front ends map three error kinds to their replies. Front ends see only this
 * interface and the read-only index queries in `index`, never the repositories' writes or the files' paths.
 */
import type { Logger } from '../log/logger.ts';
import type { Repos } from '../repos/index.ts';
import type { MailboxesRepo } from '../repos/mailboxes.ts';
import { flagsOf, type MessagesRepo, OverQuotaError, type StoreMode } from '../repos/messages.ts';
import type { MailboxRow, MessageRow } from '../repos/rows.ts';
import { effectiveQuota, type UserAccount } from '../repos/users.ts';
import { bareLineFeeds } from './crlf.ts';
import { createDelivery, type StoreTarget } from './deliver.ts';
import { readHeaderSection } from './headerSection.ts';
import { HEADER_LIMIT, parseIndexHeaders } from './headers.ts';
import { release } from './held.ts';
import { onDiskName, removeQuietly, UserMaildir } from './mailboxFiles.ts';
import type { FileFlags } from './maildir.ts';
import { createPickupQueue } from './pickupQueue.ts';
import { rewriteHeaders } from './rewrite.ts';
import { createSpool, type Spooled } from './spool.ts';

export type { StoreTarget } from './deliver.ts';
export type { PickedUp } from './pickupQueue.ts';
export type { RewriteOptions } from './rewrite.ts';
export type { Spooled } from './spool.ts';
export { StoreError } from './spool.ts';

/** Who owns the mail an operation touches (an IMAP login, a recipient). */
export interface MailUser {
  id: number;
  email: string;
}

/** A user's quota in bytes (0 = unlimited) and usage; the usage is read only when a limit applies (else 0). */
export interface Quota {
  limit: number;
  used: number;
}

/** The index queries IMAP reads through (no writes: those are the store's operations). */
export interface MailIndex {
  mailboxes: Pick<MailboxesRepo, 'get' | 'byId' | 'list' | 'status'>;
  messages: Pick<
    MessagesRepo,
    'rows' | 'uids' | 'uidsAbove' | 'flagRows' | 'firstUnseen' | 'expungedSince' | 'changedSince' | 'countAbove'
  >;
}

/** What a COPY or MOVE did: the source UIDs copied, their new UIDs (same order), and for a MOVE the expunged ones. */
export interface Copied {
  uidvalidity: number;
  sourceUids: number[];
  uids: number[];
  modseq: number;
  expunged: number[];
}

/** Longest folder name a Maildir++ directory can hold (a path component of 255 bytes, with the leading dot). */
export const fitsOnDisk = (mailbox: string): boolean => Buffer.byteLength(onDiskName(mailbox)) + 1 <= 255;

const fileFlagsOf = (flags: readonly string[]): FileFlags => {
  const has = (f: string) => flags.some((x) => x.toLowerCase() === f.toLowerCase());
  return {
    seen: has('\\Seen'),
    answered: has('\\Answered'),
    flagged: has('\\Flagged'),
    deleted: has('\\Deleted'),
    draft: has('\\Draft'),
    keywords: flags.filter((f) => !f.startsWith('\\')),
  };
};

export function createMailStore(opts: {
  mailDir: string;
  repos: Pick<Repos, 'deliveries' | 'messages' | 'mailboxes' | 'users' | 'domains'>;
  log: Logger;
}) {
  const { mailDir, repos, log } = opts;
  const spool = createSpool(mailDir);
  const delivery = createDelivery(mailDir, repos.deliveries);
  const pickUp = createPickupQueue(repos.messages, log);
  const files = (user: MailUser) => new UserMaildir(mailDir, user.email);

  const store = {
    index: { mailboxes: repos.mailboxes, messages: repos.messages } as MailIndex,

    // --- SMTP: spool the DATA stream, then deliver it to its mailboxes (deliver.ts) ---
    spool: spool.spool,
    discard: spool.discard,
    /** After the content checks: result headers prepended, forged ones dropped, streamed into a new file (rewrite.ts). */
    rewriteHeaders,
    deliver: delivery.deliver,
    /** The header section of a spooled message as stored (every field; headerSection.ts). */
    headerSection: (spooled: Pick<Spooled, 'path'>) => readHeaderSection(spooled.path),

    /**
     * Where a quarantined message goes: the user's mailbox with SPECIAL-USE \Junk, else one named "Junk", else a
     * new "Junk" with \Junk (created through createMailbox: its folder, and the mailbox.changed event).
     */
    junkOf(user: MailUser): StoreTarget {
      const boxes = repos.mailboxes.list(user.id);
      const box =
        boxes.find((b) => b.special_use === '\\Junk') ??
        boxes.find((b) => b.name === 'Junk') ??
        store.createMailbox(user, 'Junk', '\\Junk').at(-1)!;
      return { userId: user.id, email: user.email, mailboxId: box.id, mailboxName: box.name };
    },

    /**
     * Where the copy of a submitted message goes (queue.sent_copy): the user's mailbox with SPECIAL-USE \Sent,
     * else one named "Sent", else a new "Sent" with \Sent (as junkOf does for Junk).
     */
    sentOf(user: MailUser): StoreTarget {
      const boxes = repos.mailboxes.list(user.id);
      const box =
        boxes.find((b) => b.special_use === '\\Sent') ??
        boxes.find((b) => b.name === 'Sent') ??
        store.createMailbox(user, 'Sent', '\\Sent').at(-1)!;
      return { userId: user.id, email: user.email, mailboxId: box.id, mailboxName: box.name };
    },

    /** The effective quota of the user with this address (an unknown address has none). */
    quota(email: string): Quota {
      const a = repos.users.account(email);
      return a ? store.quotaOf(a) : { limit: 0, used: 0 };
    },

    /** The effective quota of an account the caller already has (SMTP's resolved recipients: no second lookup). */
    quotaOf(a: Pick<UserAccount, 'id' | 'email' | 'quota'>): Quota {
      const limit = effectiveQuota(a.quota, repos.domains.get(a.email.slice(a.email.lastIndexOf('@') + 1)));
      return { limit, used: limit > 0 ? repos.users.usedBytes(a.id) : 0 };
    },

    // --- IMAP ---

    /**
     * APPEND: writes `data` as a new message of `box` with `flags` (file fsync'd, then indexed). Throws
     * OverQuotaError before writing when the quota is already short, and again from the commit (file removed).
     */
    async append(
      user: MailUser,
      box: MailboxRow,
      data: Buffer,
      flags: string[],
      internalDate: number,
    ): Promise<{ uidvalidity: number; uid: number; modseq: number }> {
      const quota = store.quota(user.email);
      if (quota.limit > 0 && quota.used + data.length > quota.limit) throw new OverQuotaError();
      const file = await files(user).writeNew(box.name, data, fileFlagsOf(flags));
      const h = parseIndexHeaders(data.subarray(0, HEADER_LIMIT));
      try {
        const r = repos.messages.insert(
          user.id,
          box.id,
          [
            {
              maildirName: file.maildirName,
              // What FETCH serves: the CRLF form (a literal with bare LFs is stored as sent, served as CRLF).
              size: data.length + bareLineFeeds(data),
              internalDate,
              flags,
              messageId: h.messageId,
              subject: h.subject,
              fromAddr: h.from,
              dateHeader: h.date,
            },
          ],
          quota.limit,
        );
        return { uidvalidity: r.uidvalidity, uid: r.uids[0]!, modseq: r.modseq };
      } catch (e) {
        removeQuietly([file.path]);
        throw e;
      } finally {
        release([file.maildirName]);
      }
    },

    /**
     * COPY or MOVE of `uids` from `from` into `to`: the files are hard-linked into the target and fsync'd, then
     * indexed; a MOVE expunges the originals in the same transaction (quota-neutral) and unlinks their files after
     * it; a COPY checks the quota in its commit. Null when none of the UIDs exist.
     */
    async copy(
      user: MailUser,
      from: MailboxRow,
      to: MailboxRow,
      uids: number[],
      move: boolean,
    ): Promise<Copied | null> {
      const rows = repos.messages.rows(from.id, uids);
      if (!rows.length) return null;
      const f = files(user);
      const linked = await f.linkInto(
        from.name,
        to.name,
        rows.map((r) => ({ maildirName: r.maildir_name, flags: r, size: r.size })),
      );
      let result: ReturnType<MessagesRepo['insert']>;
      try {
        result = repos.messages.insert(
          user.id,
          to.id,
          rows.map((r, i) => ({
            maildirName: linked[i]!.maildirName,
            size: r.size,
            internalDate: r.internal_date,
            flags: flagsOf(r),
            messageId: r.message_id,
            subject: r.subject,
            fromAddr: r.from_addr,
            dateHeader: r.date_header,
          })),
          // A move inside the account does not change usage, so no quota applies.
          move ? 0 : store.quota(user.email).limit,
          move ? { mailboxId: from.id, uids: rows.map((r) => r.uid) } : undefined,
        );
      } catch (e) {
        removeQuietly(linked.map((l) => l.path));
        throw e;
      } finally {
        release(linked.map((l) => l.maildirName));
      }
      if (result.expunged) f.remove(from.name, result.expunged);
      return {
        uidvalidity: result.uidvalidity,
        sourceUids: rows.map((r) => r.uid),
        uids: result.uids,
        modseq: result.modseq,
        expunged: result.expunged?.map((e) => e.uid) ?? [],
      };
    },

    /** EXPUNGE: removes the \Deleted messages of `box` (only those of `uids` if given); files after the commit. */
    expunge(user: MailUser, box: MailboxRow, uids?: readonly number[]): { uids: number[]; modseq: number } {
      const r = repos.messages.expunge(user.id, box.id, uids);
      files(user).remove(box.name, r.expunged);
      return { uids: r.expunged.map((e) => e.uid), modseq: r.modseq };
    },

    /**
     * STORE: changes flags in the index (one transaction, one new mod-sequence; messages changed since
     * `unchangedSince` are left alone and listed in `modified`), committed when this returns (so the caller can
     * tell its own change from others' before any event arrives), then renames the files to match: `files` settles
     * when they follow.
     */
    setFlags(
      user: MailUser,
      box: MailboxRow,
      uids: readonly number[],
      mode: StoreMode,
      flags: readonly string[],
      unchangedSince?: number,
    ) {
      const r = repos.messages.store(user.id, box.id, uids, mode, flags, unchangedSince);
      const renamed = r.renames.length ? files(user).renameFlags(box.name, r.renames) : Promise.resolve(0);
      return { changed: r.changed, modified: r.modified, files: renamed.then(() => {}) };
    },

    /** Indexes mail other software put into `box`'s folder (pickupQueue.ts). */
    pickUp(user: MailUser, box: MailboxRow) {
      return pickUp(user, box, files(user).dir(box.name));
    },

    /** A message's bytes as IMAP serves them (CRLF line ends). */
    read(user: MailUser, mailbox: string, row: Pick<MessageRow, 'maildir_name'> & FileFlags): Promise<Buffer> {
      return files(user).read(mailbox, row.maildir_name, row);
    },

    /** CREATE: the mailbox and any missing parents, each with its Maildir++ folder. */
    createMailbox(user: MailUser, name: string, specialUse: MailboxRow['special_use'] = null): MailboxRow[] {
      const created = repos.mailboxes.create(user.id, name, specialUse);
      const f = files(user);
      for (const m of created) f.ensure(m.name);
      return created;
    },

    /** DELETE: the rows first (commit), then the folder's files; children stay (separate mailboxes). */
    deleteMailbox(user: MailUser, name: string): void {
      repos.mailboxes.delete(user.id, name);
      files(user).removeFolder(name);
    },

    /**
     * RENAME: the index first (commit), then the Maildir++ folders (children move with their parent, parents the
     * new name needs get a folder); renaming INBOX moves its messages into the new mailbox and leaves INBOX empty.
     */
    async renameMailbox(user: MailUser, from: string, to: string): Promise<{ renamed: [string, string][] }> {
      const result = repos.mailboxes.rename(user.id, from, to);
      const f = files(user);
      for (const [a, b] of result.renamed) f.renameFolder(a, b);
      const parts = to.split('/');
      for (let i = 1; i < parts.length; i++) f.ensure(parts.slice(0, i).join('/'));
      if (result.movedFromInbox) {
        const inbox = repos.mailboxes.get(user.id, 'INBOX')!;
        f.ensure(result.movedFromInbox.target.name);
        await store.copy(user, inbox, result.movedFromInbox.target, result.movedFromInbox.uids, true);
      }
      return { renamed: result.renamed };
    },

    /** SUBSCRIBE / UNSUBSCRIBE. */
    subscribe(user: MailUser, name: string, on: boolean): void {
      repos.mailboxes.setSubscribed(user.id, name, on);
    },

    /** Stops the commit thread once its batches are committed (before the database is closed). */
    close: delivery.close,
  };
  return store;
}

export type MailStore = ReturnType<typeof createMailStore>;
