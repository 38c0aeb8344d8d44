/**
 * The commit thread: puts a delivery batch's files in place, fsyncs their directories and commits the batch's
 * index rows on its own SQLite connection (commitThreadMain.mjs), so the event loop keeps serving sessions while
 * those fsyncs and the commit's wait (better-sqlite3 is synchronous; with synchronous=FULL a commit blocks its
 * thread for the whole fsync). Rules: only for a database file (WAL lets the main connection read while the thread
 * commits; an in-memory database has no second connection and deliver.ts commits in-process); batches are done one
 * at a time in the order they were sent; the caller publishes events only after the batch's results came back
 * (i.e. after the commit); if the thread dies, every batch it had not answered is reported failed and the next
 * batch starts a new thread; close() waits for the batches in flight; the thread keeps the process alive only
 * while a batch is in flight.
 */
import { Worker } from 'node:worker_threads';
import type { DeliveryConnection, EncodedJob, WriteResult } from '../repos/deliveries.ts';
import type { FileStep } from './placeFiles.d.mts';

/** What the thread starts with: how to open its database connection. */
export type ThreadData = DeliveryConnection;
/** Requests to the thread: per job its encoded rows and its file steps, then the directories to fsync. */
export type ThreadRequest = { id: number; jobs: EncodedJob[]; files: FileStep[][]; syncDirs: string[] };
/** Answers from the thread: one result per job of a request, or `fatal` when the thread cannot start. */
export type ThreadReply = { id: number; results: WriteResult[] } | { fatal: { message: string; stack?: string } };

interface InFlight {
  jobs: number;
  resolve(r: WriteResult[]): void;
}

export function createCommitThread(data: ThreadData) {
  let worker: Worker | null = null;
  let nextId = 1;
  const inFlight = new Map<number, InFlight>();
  let idle: (() => void) | null = null;

  const failAll = (error: Error) => {
    for (const [id, f] of inFlight) {
      inFlight.delete(id);
      f.resolve(Array.from({ length: f.jobs }, () => ({ ok: false as const, error })));
    }
    idle?.();
  };

  const start = () => {
    const w = new Worker(new URL('./commitThreadMain.mjs', import.meta.url), { workerData: data });
    w.on('message', (m: ThreadReply) => {
      if ('id' in m) {
        const f = inFlight.get(m.id);
        if (!f) return;
        inFlight.delete(m.id);
        f.resolve(m.results);
        if (inFlight.size === 0) {
          w.unref();
          idle?.();
        }
      } else {
        if (worker === w) worker = null;
        void w.terminate();
        failAll(Object.assign(new Error(`commit thread: ${m.fatal.message}`), { stack: m.fatal.stack }));
      }
    });
    const died = (e: Error) => {
      if (worker === w) worker = null;
      failAll(e);
    };
    w.on('error', died);
    w.on('exit', (code) => died(new Error(`commit thread exited (code ${code})`)));
    // After the listeners: adding a 'message' listener refs the worker again.
    w.unref();
    return w;
  };

  return {
    /**
     * Puts each job's files in place, fsyncs `syncDirs`, then commits the jobs as one batch, on the thread. Never
     * rejects: failures are per-job results.
     */
    write(jobs: EncodedJob[], files: FileStep[][], syncDirs: string[] = []): Promise<WriteResult[]> {
      worker ??= start();
      const id = nextId++;
      return new Promise((resolve) => {
        if (inFlight.size === 0) worker!.ref();
        inFlight.set(id, { jobs: jobs.length, resolve });
        worker!.postMessage({ id, jobs, files, syncDirs } satisfies ThreadRequest);
      });
    },

    /** Waits for the batches in flight, then stops the thread. */
    async close(): Promise<void> {
      if (inFlight.size)
        await new Promise<void>((r) => {
          idle = r;
        });
      const w = worker;
      worker = null;
      await w?.terminate();
    },
  };
}

export type CommitThread = ReturnType<typeof createCommitThread>;
