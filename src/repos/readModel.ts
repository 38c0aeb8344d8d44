/**
 * The read model: what the GraphQL layer plans its queries with (Pothos' drizzle plugin selects exactly the
 * columns a query asks for). Rules: the handle reads only (Drizzle's relational `query` API, and `select` and
 * `$count` for relation filters and counts); it has no insert, update, delete, transaction or raw connection, so
 * every write still goes through a repository; filters on columns are built here, not by the caller.
 */
import { eq } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/sqlite-core';
import { relations } from '../../schema/db/relations.ts';
import { messages } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';

/** The dialect's table description reader, which the Pothos drizzle plugin needs (the SQLite one, kept here). */
export { getTableConfig, relations };

/** The read-only part of the database handle (all that Pothos' drizzle plugin calls). */
export interface ReadClient {
  readonly _: { readonly relations: Db['_']['relations'] };
  readonly query: Db['query'];
  readonly select: Db['select'];
  readonly $count: Db['$count'];
}

/** A read-only view of `db`: the same connection, without the methods that write. */
export function readClientOf(db: Db): ReadClient {
  return Object.freeze({
    _: Object.freeze({ relations: db._.relations }),
    query: db.query,
    select: db.select.bind(db) as Db['select'],
    $count: db.$count.bind(db) as Db['$count'],
  });
}

/** Relation filters for counts (`t.relatedCount(..., { where })`). */
export const READ_FILTERS = {
  /** Messages without the \Seen flag. */
  unseenMessages: eq(messages.seen, false),
};
