// The transaction of a delivery batch, on a better-sqlite3 connection: run in-process by the deliveries repository
// and on the store's commit thread (store/commitThread.ts), which cannot load TypeScript, hence plain JavaScript.
// The SQL comes from Drizzle's query builder (deliveryStatements.ts); parameters arrive encoded for the driver.
// Rules: one transaction for the batch, one savepoint per job (a failing job is rolled back alone and reported
// failed, the others commit); a job the caller marks failed beforehand (its files could not be put in place) writes
// no row and is reported with that error; if the commit fails, every job is reported failed; never throws; no
// file system work here (the store puts the files in place and makes them durable before calling).
import Database from 'better-sqlite3';

/**
 * @param {import('better-sqlite3').Database} conn
 * @param {import("./deliveryTransaction.d.mts").DeliveryStatements} st
 * @param {import('./deliveryStatements.ts').EncodedJob[]} jobs
 * @param {readonly (Error | null | undefined)[]} [failed] per job: an error that already failed it (no row written)
 * @returns {import('./deliveryStatements.ts').WriteResult[]}
 */
export function commitBatch(conn, st, jobs, failed = []) {
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
    jobs.map((job, i) => {
      const error = failed[i];
      if (error) return { ok: false, error };
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
 * @param {import('./deliveryStatements.ts').DeliverySql} sql
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

/**
 * A second connection for delivery commits (the commit thread's), opened as the repository describes it.
 * @param {import('./deliveryTransaction.d.mts').DeliveryConnection} setup
 * @returns {(jobs: import('./deliveryStatements.ts').EncodedJob[], failed?: readonly (Error | null | undefined)[]) => import('./deliveryStatements.ts').WriteResult[]}
 */
export function openDeliveryConnection(setup) {
  const conn = new Database(setup.path, { timeout: setup.busyTimeoutMs, fileMustExist: true });
  for (const p of setup.pragmas) conn.pragma(p);
  const st = prepareDeliveryStatements(conn, setup.sql);
  return (jobs, failed) => commitBatch(conn, st, jobs, failed);
}
