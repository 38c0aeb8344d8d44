/**
 * Users repository. Rules: a user belongs to an existing, non-template domain; creating a user creates its
 * standard mailboxes (INBOX, Sent, Drafts, Trash, Junk, Archive with SPECIAL-USE) in the same transaction;
 * the domain's max_users is enforced inside that transaction; writes commit, then publish `user.changed`.
 * account() serves the per-message paths from a per-address cache that this repository's writes invalidate at
 * once (and `user.changed`/`domain.changed` through the bus, for writes elsewhere); it holds no usage figures,
 * which change with every delivery without an event: usedBytes() reads the current one.
 */
import { and, asc, count, eq, gt, sql } from 'drizzle-orm';
import { domains, mailboxes, type UserRow, users } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import { ConflictError, classify, NotFoundError } from './errors.ts';
import { splitAddress, TEMPLATE_DOMAIN } from './names.ts';

export const STANDARD_MAILBOXES = [
  { name: 'INBOX', special_use: null },
  { name: 'Sent', special_use: '\\Sent' },
  { name: 'Drafts', special_use: '\\Drafts' },
  { name: 'Trash', special_use: '\\Trash' },
  { name: 'Junk', special_use: '\\Junk' },
  { name: 'Archive', special_use: '\\Archive' },
] as const;

export interface NewUser {
  email: string;
  passwordHash: string;
  fullName?: string | null;
  quota?: number | null;
  status?: UserRow['status'];
}

/** A user as the per-message paths need it: the row without its usage, and the id of its INBOX (which lives as
 * long as the user: it can be neither deleted nor renamed away). */
export type UserAccount = Omit<UserRow, 'used_bytes'> & { inboxId: number };

/** Most addresses the account cache holds (unknown ones included) before it starts over. */
const ACCOUNT_CACHE_MAX = 50_000;

/**
 * A user's effective quota in bytes (0 = unlimited): the user's own, else the domain's default_quota. The one
 * statement of this rule (SMTP, IMAP and the API all go through it).
 */
export function effectiveQuota(userQuota: number | null, domain: { default_quota: number } | null | undefined): number {
  return userQuota ?? domain?.default_quota ?? 0;
}

export type UserPatch = Partial<Pick<UserRow, 'full_name' | 'quota' | 'status' | 'totp_secret' | 'totp_enabled'>>;

export function createUsersRepo(db: Db, bus: EventBus) {
  // The per-message lookups (SMTP RCPT and DATA) as prepared queries, built on first use (the repositories may be
  // created before the tables exist): no query building per call.
  let byEmail: ReturnType<typeof prepareByEmail> | undefined;
  let byId: ReturnType<typeof prepareById> | undefined;
  const prepareByEmail = () =>
    db
      .select()
      .from(users)
      .where(eq(users.email, sql.placeholder('email')))
      .prepare();
  const prepareById = () =>
    db
      .select()
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .prepare();

  let inboxOf: ReturnType<typeof prepareInbox> | undefined;
  const prepareInbox = () =>
    db
      .select({ id: mailboxes.id })
      .from(mailboxes)
      .where(and(eq(mailboxes.user_id, sql.placeholder('user')), eq(mailboxes.name, 'INBOX')))
      .prepare();
  const accounts = new Map<string, UserAccount | null>();
  // Keyed by the normalized address (lower case, IDN domain in ASCII), as events and rows carry it.
  const forget = (email: string) => accounts.delete(email);
  bus.subscribe('user.changed', ({ email }) => {
    forget(email);
  });
  // Deleting a domain deletes its users (ON DELETE CASCADE) without a user.changed per user.
  bus.subscribe('domain.changed', ({ action }) => {
    if (action === 'deleted') accounts.clear();
  });

  /** The normalized form of an address (the key of rows, events and the cache), or undefined if it is none. */
  const addressOf = (email: string): string | undefined => {
    try {
      return splitAddress(email).address;
    } catch {
      return undefined;
    }
  };
  const rowOf = (address: string): UserRow | undefined => {
    byEmail ??= prepareByEmail();
    return byEmail.get({ email: address });
  };

  const repo = {
    /** The account behind an address (cached; see the module rules), or undefined. */
    account(email: string): UserAccount | undefined {
      const key = addressOf(email);
      if (key === undefined) return undefined;
      let a = accounts.get(key);
      if (a === undefined) {
        const row = rowOf(key);
        if (row) {
          inboxOf ??= prepareInbox();
          const inbox = inboxOf.get({ user: row.id });
          const { used_bytes: _used, ...rest } = row;
          a = inbox ? { ...rest, inboxId: inbox.id } : null;
        } else a = null;
        if (accounts.size >= ACCOUNT_CACHE_MAX) accounts.clear();
        accounts.set(key, a);
      }
      return a ?? undefined;
    },

    /** A user's current used_bytes (0 for an unknown id). */
    usedBytes(id: number): number {
      return repo.byId(id)?.used_bytes ?? 0;
    },

    get(email: string): UserRow | undefined {
      const address = addressOf(email);
      return address === undefined ? undefined : rowOf(address);
    },

    require(email: string): UserRow {
      const u = repo.get(email);
      if (!u) throw new NotFoundError('user', email);
      return u;
    },

    byId(id: number): UserRow | undefined {
      byId ??= prepareById();
      return byId.get({ id });
    },

    list(opts: { domainId?: number; after?: number; limit?: number } = {}): UserRow[] {
      const conds = [gt(users.id, opts.after ?? 0)];
      if (opts.domainId !== undefined) conds.push(eq(users.domain_id, opts.domainId));
      return db
        .select()
        .from(users)
        .where(and(...conds))
        .orderBy(asc(users.id))
        .limit(opts.limit ?? 100)
        .all();
    },

    count(opts: { domainId?: number; status?: string } = {}): number {
      const conds = [gt(users.id, 0)];
      if (opts.domainId !== undefined) conds.push(eq(users.domain_id, opts.domainId));
      if (opts.status) conds.push(eq(users.status, opts.status as UserRow['status']));
      return (
        db
          .select({ n: count() })
          .from(users)
          .where(and(...conds))
          .get()?.n ?? 0
      );
    },

    create(input: NewUser): UserRow {
      const { local, domain, address } = splitAddress(input.email);
      const row = db.transaction((tx) => {
        const d = tx.select().from(domains).where(eq(domains.name, domain)).get();
        if (!d || d.name === TEMPLATE_DOMAIN) throw new NotFoundError('domain', domain);
        if (d.max_users > 0) {
          const n = tx.select({ n: count() }).from(users).where(eq(users.domain_id, d.id)).get()?.n ?? 0;
          if (n >= d.max_users)
            throw new ConflictError(`domain "${domain}" already has its maximum of ${d.max_users} users`);
        }
        let u: UserRow;
        try {
          u = tx
            .insert(users)
            .values({
              domain_id: d.id,
              email: address,
              local_part: local,
              full_name: input.fullName ?? null,
              password_hash: input.passwordHash,
              quota: input.quota ?? null,
              status: input.status ?? 'active',
            })
            .returning()
            .get();
        } catch (e) {
          classify(e, `user "${address}" already exists`);
        }
        const uidvalidity = Math.floor(Date.now() / 1000);
        tx.insert(mailboxes)
          .values(
            STANDARD_MAILBOXES.map((m) => ({ user_id: u.id, name: m.name, special_use: m.special_use, uidvalidity })),
          )
          .run();
        return u;
      });
      forget(address);
      bus.publish('user.changed', { email: address, domain, action: 'created', fields: [] });
      return row;
    },

    update(email: string, patch: UserPatch): UserRow {
      const current = repo.require(email);
      const fields = Object.keys(patch);
      if (fields.length === 0) return current;
      const row = db
        .update(users)
        .set({ ...patch, updated_at: Date.now() })
        .where(eq(users.id, current.id))
        .returning()
        .get()!;
      forget(row.email);
      bus.publish('user.changed', { email: row.email, domain: row.email.split('@')[1]!, action: 'updated', fields });
      return row;
    },

    /** Records a successful login (no event: it changes no setting). */
    markLogin(id: number, at = Date.now()): void {
      db.update(users).set({ last_login_at: at }).where(eq(users.id, id)).run();
    },

    setPasswordHash(email: string, passwordHash: string): void {
      const current = repo.require(email);
      db.update(users)
        .set({ password_hash: passwordHash, updated_at: Date.now() })
        .where(eq(users.id, current.id))
        .run();
      forget(current.email);
      bus.publish('user.changed', {
        email: current.email,
        domain: current.email.split('@')[1]!,
        action: 'updated',
        fields: ['password'],
      });
    },

    delete(email: string): UserRow {
      const current = repo.require(email);
      db.delete(users).where(eq(users.id, current.id)).run();
      forget(current.email);
      bus.publish('user.changed', {
        email: current.email,
        domain: current.email.split('@')[1]!,
        action: 'deleted',
        fields: [],
      });
      return current;
    },

    mailboxes(userId: number) {
      return db.select().from(mailboxes).where(eq(mailboxes.user_id, userId)).orderBy(asc(mailboxes.id)).all();
    },
  };
  return repo;
}

export type UsersRepo = ReturnType<typeof createUsersRepo>;
