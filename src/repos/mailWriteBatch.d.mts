// Types of mailWriteBatch.mjs (plain JavaScript so the mail writer thread can load it without a TypeScript loader).
import type Database from 'better-sqlite3';
import type { DeliverySql, EncodedJob, WriteResult } from './mailWrites.ts';

export interface DeliveryStatements {
  bump: Database.Statement;
  message: Database.Statement;
  usedBytes: Database.Statement;
  event: Database.Statement;
  queue: Database.Statement;
  uidAt: number;
  modseqAt: number;
}

export function prepareDeliveryStatements(conn: Database.Database, sql: DeliverySql): DeliveryStatements;
export function writeBatch(
  conn: Database.Database,
  st: DeliveryStatements,
  jobs: EncodedJob[],
  syncDirs?: readonly string[],
): WriteResult[];
