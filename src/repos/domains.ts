/**
 * Domains repository: hosted domains and the `_default` template. Rules: reads go through a per-name cache that
 * every write invalidates (directly, and through the bus for other nodes), so a change is seen by the very next
 * SMTP/IMAP transaction; writes commit, then publish `domain.changed`.
 */
import { and, asc, count, eq, gt, like, ne } from 'drizzle-orm';
import { domainDefaults } from '../../schema/db/domain-defaults.ts';
import { type DomainRow, domains, users } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import { ConflictError, classify, NotFoundError } from './errors.ts';
import { normalizeDomain, TEMPLATE_DOMAIN } from './names.ts';

/** Every column an API may set (not id, name or timestamps). */
export type DomainSettings = Omit<DomainRow, 'id' | 'name' | 'created_at' | 'updated_at'>;
export type DomainPatch = Partial<DomainSettings>;

const SETTINGS_FROM_TEMPLATE = (row: DomainRow): DomainSettings => {
  const { id: _i, name: _n, created_at: _c, updated_at: _u, dkim_private_key: _k, dkim_public_key: _p, ...rest } = row;
  return { ...rest, dkim_private_key: null, dkim_public_key: null };
};

export function createDomainsRepo(db: Db, bus: EventBus) {
  const cache = new Map<string, DomainRow | null>();
  bus.subscribe('domain.changed', ({ name }) => {
    cache.delete(name);
  });

  const load = (name: string) => db.select().from(domains).where(eq(domains.name, name)).get() ?? null;

  const repo = {
    /** The domain row (cached), or undefined. `name` may be an IDN or mixed case. */
    get(name: string): DomainRow | undefined {
      let key: string;
      try {
        key = normalizeDomain(name);
      } catch {
        return undefined;
      }
      if (!cache.has(key)) cache.set(key, load(key));
      return cache.get(key) ?? undefined;
    },

    /** Drops `name` (normalized) from the cache: for repositories that write domain columns in their own transactions. */
    invalidate(name: string): void {
      cache.delete(name);
    },

    require(name: string): DomainRow {
      const d = repo.get(name);
      if (!d) throw new NotFoundError('domain', name);
      return d;
    },

    template(): DomainRow {
      return repo.require(TEMPLATE_DOMAIN);
    },

    /** Creates the `_default` template with the guide's defaults if it does not exist. Returns true if created. */
    ensureTemplate(): boolean {
      const res = db
        .insert(domains)
        .values({ name: TEMPLATE_DOMAIN, ...domainDefaults })
        .onConflictDoNothing({ target: domains.name })
        .run();
      if (res.changes > 0) {
        cache.delete(TEMPLATE_DOMAIN);
        bus.publish('domain.changed', { name: TEMPLATE_DOMAIN, action: 'created', fields: [] });
      }
      return res.changes > 0;
    },

    /** Hosted domains (the template excluded), ordered by id; `after` is an id cursor. */
    list(opts: { after?: number; limit?: number } = {}): DomainRow[] {
      return db
        .select()
        .from(domains)
        .where(and(gt(domains.id, opts.after ?? 0), ne(domains.name, TEMPLATE_DOMAIN)))
        .orderBy(asc(domains.id))
        .limit(opts.limit ?? 100)
        .all();
    },

    /** Hosted domains (template excluded), optionally by status and a substring of the name. */
    count(filter: { status?: string; nameContains?: string } = {}): number {
      const conds = [ne(domains.name, TEMPLATE_DOMAIN)];
      if (filter.status) conds.push(eq(domains.status, filter.status as DomainRow['status']));
      if (filter.nameContains)
        conds.push(like(domains.name, `%${filter.nameContains.toLowerCase().replace(/[%_\\]/g, '')}%`));
      return (
        db
          .select({ n: count() })
          .from(domains)
          .where(and(...conds))
          .get()?.n ?? 0
      );
    },

    create(name: string, opts: { useTemplate: boolean; values?: DomainPatch }): DomainRow {
      const key = normalizeDomain(name);
      if (key === TEMPLATE_DOMAIN) throw new ConflictError('the _default template already exists');
      const base = opts.useTemplate ? SETTINGS_FROM_TEMPLATE(repo.template()) : {};
      let row: DomainRow;
      try {
        row = db
          .insert(domains)
          .values({ ...base, ...opts.values, name: key })
          .returning()
          .get();
      } catch (e) {
        classify(e, `domain "${key}" already exists`);
      }
      cache.delete(key);
      bus.publish('domain.changed', { name: key, action: 'created', fields: Object.keys(opts.values ?? {}) });
      return row;
    },

    update(name: string, patch: DomainPatch): DomainRow {
      const current = repo.require(name);
      const fields = Object.keys(patch);
      if (fields.length === 0) return current;
      const row = db
        .update(domains)
        .set({ ...patch, updated_at: Date.now() })
        .where(eq(domains.id, current.id))
        .returning()
        .get();
      if (!row) throw new NotFoundError('domain', name);
      cache.delete(current.name);
      bus.publish('domain.changed', { name: current.name, action: 'updated', fields });
      return row;
    },

    userCount(domainId: number): number {
      return db.select({ n: count() }).from(users).where(eq(users.domain_id, domainId)).get()?.n ?? 0;
    },

    /** Deletes a domain. Refuses while it has users unless `force` (then its users and their mail go too). */
    delete(name: string, opts: { force?: boolean } = {}): DomainRow {
      const current = repo.require(name);
      if (current.name === TEMPLATE_DOMAIN) throw new ConflictError('the _default template cannot be deleted');
      db.transaction((tx) => {
        const n = tx.select({ n: count() }).from(users).where(eq(users.domain_id, current.id)).get()?.n ?? 0;
        if (n > 0 && !opts.force)
          throw new ConflictError(`domain "${current.name}" still has ${n} user(s); delete them first or use force`);
        tx.delete(users).where(eq(users.domain_id, current.id)).run();
        tx.delete(domains).where(eq(domains.id, current.id)).run();
      });
      cache.delete(current.name);
      bus.publish('domain.changed', { name: current.name, action: 'deleted', fields: [] });
      return current;
    },
  };
  return repo;
}

export type DomainsRepo = ReturnType<typeof createDomainsRepo>;
