// The transaction of a delivery batch, on a better-sqlite3 connection: used in-process by the mail repository
// and on the mail writer thread (mailWriter.ts), which cannot load TypeScript, hence plain JavaScript. The SQL
// comes from Drizzle's query builder (mailWrites.ts); parameters arrive encoded for the driver.
// Rules: the directories a batch names are fsync'd before its transaction begins (so a committed row always has
// a durable directory entry); one transaction for the batch, one savepoint per job (a failing job is rolled back
// alone and reported failed, the others commit); if the commit fails, every job is reported failed; never throws.
import { closeSync, fsyncSync, openSync } from 'node:fs';

/**
 * @param {import('better-sqlite3').Database} conn
 * @param {import("./mailWriteBatch.d.mts").DeliveryStatements} st
 * @param {import('./mailWrites.ts').EncodedJob[]} jobs
 * @param {readonly string[]} [syncDirs] directories to fsync first (if one fails, nothing is written)
 * @returns {import('./mailWrites.ts').WriteResult[]}
 */
export function writeBatch(conn, st, jobs, syncDirs = []) {
  try {
    for (const dir of syncDirs) {
      const fd = openSync(dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  } catch (error) {
    return jobs.map(() => ({ ok: false, error }));
  }
  const one = conn.transaction((job) => {
    for (const q of job.queue) st.queue.run(q);
    const stored = [];
    for (const m of job.items) {
      const box = st.bump.get([m.mailboxId]);
      if (!box) throw new Error(`mailbox ${m.mailboxId} disappeared during delivery`);
      const uid = box[0] - 1;
      const modseq = box[1];
      m.message[st.uidAt] = uid;
      m.message[st.modseqAt] = modseq;
      st.message.run(m.message);
      st.usedBytes.run(m.usedBytes);
      stored.push({ userId: m.userId, mailboxId: m.mailboxId, uid, modseq });
    }
    const eventIds = [];
    for (const e of job.events) eventIds.push(st.event.get(e)[0]);
    return { ok: true, stored, eventIds };
  });
  // Nested calls of a better-sqlite3 transaction function run in a savepoint.
  const batch = conn.transaction(() =>
    jobs.map((job) => {
      try {
        return one(job);
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );
  try {
    return batch();
  } catch (error) {
    return jobs.map(() => ({ ok: false, error }));
  }
}

/**
 * Prepares the statements once per connection (they live as long as the connection: see db/statementCache.ts).
 * @param {import('better-sqlite3').Database} conn
 * @param {import('./mailWrites.ts').DeliverySql} sql
 */
export function prepareDeliveryStatements(conn, sql) {
  return {
    bump: conn.prepare(sql.bump).raw(true),
    message: conn.prepare(sql.message),
    usedBytes: conn.prepare(sql.usedBytes),
    event: conn.prepare(sql.event).raw(true),
    queue: conn.prepare(sql.queue),
    uidAt: sql.uidAt,
    modseqAt: sql.modseqAt,
  };
}
