// Entry of the commit thread (see commitThread.ts). Plain JavaScript: a worker does not inherit the TypeScript
// loader the main thread registered, and loading one here would cost a loader thread of its own. Opens its own
// database connection as the deliveries repository described it (repos/deliveryTransaction.mjs), then for each
// batch it receives, in order: puts the files in place and fsyncs their directories (placeFiles.mjs), commits the
// index rows of the jobs whose files are in place, and answers with the results.
import { parentPort, workerData } from 'node:worker_threads';
import { openDeliveryConnection } from '../repos/deliveryTransaction.mjs';
import { placeBatch } from './placeFiles.mjs';

/** @type {import('./commitThread.ts').ThreadData} */
const setup = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
try {
  const commit = openDeliveryConnection(setup);
  port.on('message', (/** @type {import('./commitThread.ts').ThreadRequest} */ { id, jobs, files, syncDirs }) => {
    port.postMessage({ id, results: commit(jobs, placeBatch(files, syncDirs)) });
  });
} catch (e) {
  const err = /** @type {Error} */ (e);
  port.postMessage({ fatal: { message: err.message, stack: err.stack } });
}
