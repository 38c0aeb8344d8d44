// The transaction of a delivery batch, on a better-sqlite3 connection: used in-process by the mail repository
// and on the mail writer thread (mailWriter.ts), which cannot load TypeScript, hence plain JavaScript. The SQL
// comes from Drizzle's query builder (mailWrites.ts); parameters arrive encoded for the driver.
// Rules, in this order: each job's files are put in place (renamed or linked; a job whose file step fails is
// reported failed and writes no row, the caller removes its files); the directories the batch names are fsync'd
// (so a committed row always has a durable directory entry; if one fails, every job fails and nothing is
// written); one transaction for the batch, one savepoint per job (a failing job is rolled back alone and
// reported failed, the others commit); if the commit fails, every job is reported failed; never throws.
// Doing the renames here, right before the same thread fsyncs their directories, keeps them off the event loop
// and out of the way of that fsync (a rename into a directory being fsync'd waits for its write).
import { closeSync, constants, copyFileSync, fdatasyncSync, fsyncSync, linkSync, openSync, renameSync } from 'node:fs';

/** @param {import('./mailWrites.ts').FileStep[]} steps */
function placeFiles(steps) {
  for (const { from, to, move } of steps) {
    if (move) {
      renameSync(from, to);
      continue;
    }
    try {
      linkSync(from, to);
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EXDEV') throw e;
      // Another filesystem: a copy, durable like the original before its directory is fsync'd.
      copyFileSync(from, to, constants.COPYFILE_EXCL);
      const fd = openSync(to, 'r+');
      try {
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
}

/** @param {string} dir */
function syncDir(dir) {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * @param {import('better-sqlite3').Database} conn
 * @param {import("./mailWriteBatch.d.mts").DeliveryStatements} st
 * @param {import('./mailWrites.ts').EncodedJob[]} jobs
 * @param {readonly string[]} [syncDirs] directories to fsync once the files are in place (if one fails, nothing
 *   is written)
 * @returns {import('./mailWrites.ts').WriteResult[]}
 */
export function writeBatch(conn, st, jobs, syncDirs = []) {
  /** @type {(Error | null)[]} */
  const placed = jobs.map((job) => {
    try {
      placeFiles(job.files);
      return null;
    } catch (error) {
      return /** @type {Error} */ (error);
    }
  });
  try {
    for (const dir of syncDirs) syncDir(dir);
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
    jobs.map((job, i) => {
      const error = placed[i];
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
