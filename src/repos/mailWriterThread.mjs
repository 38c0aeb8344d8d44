// Entry of the mail writer thread (see mailWriter.ts). Plain JavaScript: a worker does not inherit the
// TypeScript loader the main thread registered, and loading one here would cost a loader thread of its own.
// Opens its own connection with the pragmas and statements the main thread sent (connectionPragmas(),
// deliveryStatements()), then commits each batch it receives, in order, and answers with its results.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { prepareDeliveryStatements, writeBatch } from './mailWriteBatch.mjs';

/** @type {import('./mailWriter.ts').WriterData} */
const { path, busyTimeoutMs, pragmas, sql } = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
try {
  const conn = new Database(path, { timeout: busyTimeoutMs, fileMustExist: true });
  for (const p of pragmas) conn.pragma(p);
  const st = prepareDeliveryStatements(conn, sql);
  port.on('message', (/** @type {import('./mailWriter.ts').WriterRequest} */ { id, jobs, syncDirs }) => {
    port.postMessage({ id, results: writeBatch(conn, st, jobs, syncDirs) });
  });
} catch (e) {
  const err = /** @type {Error} */ (e);
  port.postMessage({ fatal: { message: err.message, stack: err.stack } });
}
