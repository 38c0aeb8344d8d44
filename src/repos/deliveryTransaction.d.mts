// Types of deliveryTransaction.mjs (plain JavaScript so the store's commit thread can load it without a TypeScript
// loader).
import type Database from 'better-sqlite3';
import type { DeliverySql, EncodedJob, WriteResult } from './deliveryStatements.ts';

export interface DeliveryStatements {
  bump: Database.Statement;
  message: Database.Statement;
  usedBytes: Database.Statement;
  event: Database.Statement;
  queue: Database.Statement;
  uidAt: number;
  modseqAt: number;
}

/** How a second connection to the database commits deliveries: where it is, its pragmas, the statements. */
export interface DeliveryConnection {
  path: string;
  busyTimeoutMs: number;
  pragmas: string[];
  sql: DeliverySql;
}

export function prepareDeliveryStatements(conn: Database.Database, sql: DeliverySql): DeliveryStatements;
export function commitBatch(
  conn: Database.Database,
  st: DeliveryStatements,
  jobs: EncodedJob[],
  failed?: readonly (Error | null | undefined)[],
): WriteResult[];
export function openDeliveryConnection(
  setup: DeliveryConnection,
): (jobs: EncodedJob[], failed?: readonly (Error | null | undefined)[]) => WriteResult[];
