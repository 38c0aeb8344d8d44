/**
 * Aliases repository: an address that delivers to one or more destinations (local users, other aliases, or
 * remote addresses = forwarding). Rules: the alias's domain must be hosted here; an alias may not shadow a user;
 * writes commit, then publish `alias.changed`.
 */
import { and, asc, count, eq, gt } from 'drizzle-orm';
import { type AliasRow, aliases, domains, users } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import { ConflictError, classify, InvalidInputError, NotFoundError } from './errors.ts';
import { splitAddress, TEMPLATE_DOMAIN } from './names.ts';

export function createAliasesRepo(db: Db, bus: EventBus) {
  const repo = {
    get(address: string): AliasRow | undefined {
      try {
        return db
          .select()
          .from(aliases)
          .where(eq(aliases.address, splitAddress(address).address))
          .get();
      } catch {
        return undefined;
      }
    },

    list(opts: { domainId?: number; after?: number; limit?: number } = {}): AliasRow[] {
      const conds = [gt(aliases.id, opts.after ?? 0)];
      if (opts.domainId !== undefined) conds.push(eq(aliases.domain_id, opts.domainId));
      return db
        .select()
        .from(aliases)
        .where(and(...conds))
        .orderBy(asc(aliases.id))
        .limit(opts.limit ?? 100)
        .all();
    },

    count(opts: { domainId?: number } = {}): number {
      const q = db.select({ n: count() }).from(aliases);
      return (opts.domainId === undefined ? q : q.where(eq(aliases.domain_id, opts.domainId))).get()?.n ?? 0;
    },

    create(address: string, destinations: string[]): AliasRow {
      const { domain, address: addr } = splitAddress(address, 'address');
      if (destinations.length === 0)
        throw new InvalidInputError('at least one destination is required', 'destinations');
      const dests = destinations.map((d, i) => splitAddress(d, `destinations.${i}`).address);
      if (dests.includes(addr)) throw new InvalidInputError('an alias cannot deliver to itself', 'destinations');
      const row = db.transaction((tx) => {
        const d = tx.select().from(domains).where(eq(domains.name, domain)).get();
        if (!d || d.name === TEMPLATE_DOMAIN) throw new NotFoundError('domain', domain);
        if (tx.select({ id: users.id }).from(users).where(eq(users.email, addr)).get())
          throw new ConflictError(`"${addr}" is already a user`);
        try {
          return tx.insert(aliases).values({ domain_id: d.id, address: addr, destinations: dests }).returning().get();
        } catch (e) {
          classify(e, `alias "${addr}" already exists`);
        }
      });
      bus.publish('alias.changed', { address: addr, domain, action: 'created' });
      return row;
    },

    delete(address: string): AliasRow {
      const current = repo.get(address);
      if (!current) throw new NotFoundError('alias', address);
      db.delete(aliases).where(eq(aliases.id, current.id)).run();
      bus.publish('alias.changed', {
        address: current.address,
        domain: current.address.split('@')[1]!,
        action: 'deleted',
      });
      return current;
    },
  };
  return repo;
}

export type AliasesRepo = ReturnType<typeof createAliasesRepo>;
