/**
 * Domain administrators: users who manage the users, aliases and policies of some domains through the API (with
 * a login session). Rules: set() replaces a user's whole list in one transaction, refusing unknown domains and
 * the `_default` template; rows go with their user or domain (foreign keys cascade).
 */
import { asc, eq, inArray } from 'drizzle-orm';
import { domainAdmins, domains, users } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import { NotFoundError } from './errors.ts';
import { normalizeDomain, TEMPLATE_DOMAIN } from './names.ts';

export function createDomainAdminsRepo(db: Db) {
  const domainsOf = (userId: number): string[] =>
    db
      .select({ name: domains.name })
      .from(domainAdmins)
      .innerJoin(domains, eq(domains.id, domainAdmins.domain_id))
      .where(eq(domainAdmins.user_id, userId))
      .orderBy(asc(domains.name))
      .all()
      .map((r) => r.name);

  return {
    /** The names of the domains a user administers, sorted. */
    domainsOf,

    /** The addresses of a domain's administrators, sorted. */
    adminsOf(domain: string): string[] {
      return db
        .select({ email: users.email })
        .from(domainAdmins)
        .innerJoin(users, eq(users.id, domainAdmins.user_id))
        .innerJoin(domains, eq(domains.id, domainAdmins.domain_id))
        .where(eq(domains.name, normalizeDomain(domain)))
        .orderBy(asc(users.email))
        .all()
        .map((r) => r.email);
    },

    /** Makes `userId` the administrator of exactly `names`; returns the sorted list. */
    set(userId: number, names: string[]): string[] {
      const wanted = [...new Set(names.map((n) => normalizeDomain(n, 'domains')))];
      return db.transaction((tx) => {
        const rows = wanted.length
          ? tx.select({ id: domains.id, name: domains.name }).from(domains).where(inArray(domains.name, wanted)).all()
          : [];
        for (const name of wanted)
          if (name === TEMPLATE_DOMAIN || !rows.some((r) => r.name === name)) throw new NotFoundError('domain', name);
        tx.delete(domainAdmins).where(eq(domainAdmins.user_id, userId)).run();
        for (const r of rows) tx.insert(domainAdmins).values({ user_id: userId, domain_id: r.id }).run();
        return domainsOf(userId);
      });
    },
  };
}

export type DomainAdminsRepo = ReturnType<typeof createDomainAdminsRepo>;
