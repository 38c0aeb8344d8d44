/**
 * DKIM keys of a domain besides its active one (the domain row's dkim_* columns sign; dkim_keys holds the
 * `staged` and `retiring` ones). Rules: one selector per domain across both places; activation is one transaction
 * (the staged key moves into the domain row, the previous active key moves into dkim_keys as `retiring`); every
 * write commits, drops the domain from the domains repo's cache (so the very next transaction signs with the new
 * key), then publishes `domain.changed` with field `dkim_keys` (and the dkim_* columns on activation).
 */
import { and, asc, eq } from 'drizzle-orm';
import { type DkimKeyRow, type DomainRow, dkimKeys, domains } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import { ConflictError, classify, NotFoundError } from './errors.ts';

export type { DkimKeyRow };

export interface NewDkimKey {
  selector: string;
  key_type: 'rsa' | 'ed25519';
  key_size: number;
  private_key: string;
  public_key: string;
}

/** The domain columns an activation writes. */
export const ACTIVE_KEY_COLUMNS = [
  'dkim_selector',
  'dkim_private_key',
  'dkim_public_key',
  'dkim_key_type',
  'dkim_key_size',
] as const;

export function createDkimKeysRepo(db: Db, bus: EventBus, opts: { invalidateDomain?: (name: string) => void } = {}) {
  const changed = (domain: string, fields: string[]) => {
    opts.invalidateDomain?.(domain);
    bus.publish('domain.changed', { name: domain, action: 'updated', fields });
  };
  const keyName = (domain: DomainRow, selector: string) => `${selector}._domainkey.${domain.name}`;

  const repo = {
    /** The domain's staged and retiring keys, oldest first. */
    list(domainId: number): DkimKeyRow[] {
      return db
        .select()
        .from(dkimKeys)
        .where(eq(dkimKeys.domain_id, domainId))
        .orderBy(asc(dkimKeys.created_at), asc(dkimKeys.id))
        .all();
    },

    get(domainId: number, selector: string): DkimKeyRow | undefined {
      return db
        .select()
        .from(dkimKeys)
        .where(and(eq(dkimKeys.domain_id, domainId), eq(dkimKeys.selector, selector)))
        .get();
    },

    /** Stores a staged key. A selector the domain already uses (active or not) is a ConflictError. */
    stage(domain: DomainRow, key: NewDkimKey): DkimKeyRow {
      if (domain.dkim_selector.toLowerCase() === key.selector.toLowerCase())
        throw new ConflictError(`selector "${key.selector}" is the active DKIM key of ${domain.name}`);
      let row: DkimKeyRow;
      try {
        row = db
          .insert(dkimKeys)
          .values({ domain_id: domain.id, ...key, status: 'staged' })
          .returning()
          .get();
      } catch (e) {
        classify(e, `DKIM selector "${key.selector}" already exists for ${domain.name}`);
      }
      changed(domain.name, ['dkim_keys']);
      return row;
    },

    /**
     * Makes a staged key the domain's active key and keeps the previous active key as `retiring`, atomically.
     * Returns the updated domain row. NotFoundError for an unknown selector; ConflictError for a key that is not
     * staged.
     */
    activate(domainName: string, selector: string): DomainRow {
      const row = db.transaction((tx) => {
        const domain = tx.select().from(domains).where(eq(domains.name, domainName)).get();
        if (!domain) throw new NotFoundError('domain', domainName);
        const staged = tx
          .select()
          .from(dkimKeys)
          .where(and(eq(dkimKeys.domain_id, domain.id), eq(dkimKeys.selector, selector)))
          .get();
        if (!staged) {
          if (domain.dkim_selector === selector)
            throw new ConflictError(`DKIM key ${keyName(domain, selector)} is already active`);
          throw new NotFoundError('DKIM key', keyName(domain, selector));
        }
        if (staged.status !== 'staged')
          throw new ConflictError(
            `DKIM key ${keyName(domain, selector)} is ${staged.status}; only a staged key can be activated`,
          );
        const now = Date.now();
        tx.delete(dkimKeys).where(eq(dkimKeys.id, staged.id)).run();
        if (domain.dkim_private_key && domain.dkim_public_key && domain.dkim_selector !== staged.selector) {
          const previous = {
            key_type: domain.dkim_key_type,
            key_size: domain.dkim_key_type === 'ed25519' ? 256 : domain.dkim_key_size,
            private_key: domain.dkim_private_key,
            public_key: domain.dkim_public_key,
            status: 'retiring' as const,
            updated_at: now,
          };
          // A leftover row under the active selector (possible only after the selector was edited by hand) is
          // replaced: one name publishes one key.
          tx.insert(dkimKeys)
            .values({ domain_id: domain.id, selector: domain.dkim_selector, ...previous, created_at: now })
            .onConflictDoUpdate({ target: [dkimKeys.domain_id, dkimKeys.selector], set: previous })
            .run();
        }
        return tx
          .update(domains)
          .set({
            dkim_selector: staged.selector,
            dkim_private_key: staged.private_key,
            dkim_public_key: staged.public_key,
            dkim_key_type: staged.key_type,
            // The domain's key size is an RSA modulus length; an Ed25519 key leaves it as it was.
            ...(staged.key_type === 'rsa' ? { dkim_key_size: staged.key_size } : {}),
            updated_at: now,
          })
          .where(eq(domains.id, domain.id))
          .returning()
          .get();
      });
      changed(row.name, [...ACTIVE_KEY_COLUMNS, 'dkim_keys']);
      return row;
    },

    /** Deletes a staged or retiring key for good; returns it. The active key is not in this table. */
    retire(domain: DomainRow, selector: string): DkimKeyRow {
      const row = db
        .delete(dkimKeys)
        .where(and(eq(dkimKeys.domain_id, domain.id), eq(dkimKeys.selector, selector)))
        .returning()
        .get();
      if (!row) throw new NotFoundError('DKIM key', keyName(domain, selector));
      changed(domain.name, ['dkim_keys']);
      return row;
    },
  };
  return repo;
}

export type DkimKeysRepo = ReturnType<typeof createDkimKeysRepo>;
