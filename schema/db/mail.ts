/**
 * The mail index: mailboxes and messages. The message bodies live in Maildir++ files on disk; these rows index
 * them. Rules: (mailbox_id, uid) is unique and UIDs only grow; every flag change bumps modseq; expunged UIDs are
 * remembered with their modseq (for CONDSTORE/QRESYNC). System flags are columns (fast STATUS/SEARCH);
 * keywords are a JSON array.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './accounts.ts';
import { now } from './columns.ts';

export const mailboxes = sqliteTable(
  'mailboxes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    user_id: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** IMAP name with '/' as the hierarchy delimiter ("INBOX", "Archive/2025"). */
    name: text('name').notNull(),
    special_use: text('special_use', {
      enum: ['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive', '\\All', '\\Flagged'],
    }),
    uidvalidity: integer('uidvalidity').notNull(),
    uidnext: integer('uidnext').notNull().default(1),
    highestmodseq: integer('highestmodseq').notNull().default(1),
    subscribed: integer('subscribed', { mode: 'boolean' }).notNull().default(true),
    created_at: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('mailboxes_user_name_idx').on(t.user_id, t.name)],
);

export const messages = sqliteTable(
  'messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    mailbox_id: integer('mailbox_id')
      .notNull()
      .references(() => mailboxes.id, { onDelete: 'cascade' }),
    uid: integer('uid').notNull(),
    modseq: integer('modseq').notNull(),
    seen: integer('seen', { mode: 'boolean' }).notNull().default(false),
    answered: integer('answered', { mode: 'boolean' }).notNull().default(false),
    flagged: integer('flagged', { mode: 'boolean' }).notNull().default(false),
    deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
    draft: integer('draft', { mode: 'boolean' }).notNull().default(false),
    keywords: text('keywords', { mode: 'json' }).$type<string[]>().notNull().default([]),
    internal_date: integer('internal_date').notNull(),
    size: integer('size').notNull(),
    /** Maildir base name (without the ":2,FLAGS" info suffix). */
    maildir_name: text('maildir_name').notNull(),
    message_id: text('message_id'),
    subject: text('subject'),
    from_addr: text('from_addr'),
    date_header: integer('date_header'),
    envelope: text('envelope', { mode: 'json' }),
    body_structure: text('body_structure', { mode: 'json' }),
    created_at: integer('created_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('messages_mailbox_uid_idx').on(t.mailbox_id, t.uid),
    index('messages_mailbox_modseq_idx').on(t.mailbox_id, t.modseq),
    index('messages_message_id_idx').on(t.message_id),
  ],
);

export const mailboxExpunges = sqliteTable(
  'mailbox_expunges',
  {
    mailbox_id: integer('mailbox_id')
      .notNull()
      .references(() => mailboxes.id, { onDelete: 'cascade' }),
    uid: integer('uid').notNull(),
    modseq: integer('modseq').notNull(),
  },
  (t) => [primaryKey({ columns: [t.mailbox_id, t.uid] })],
);

export type MailboxRow = typeof mailboxes.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
