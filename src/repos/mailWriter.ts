/**
 * The mail writer thread: commits delivery batches on its own SQLite connection, so the event loop keeps serving
 * sessions while a commit waits for its fsync (better-sqlite3 is synchronous; with synchronous=FULL a commit
 * blocks its thread for the whole fsync). Rules: only for a database file (WAL lets the main connection read
 * while the writer commits; an in-memory database has no second connection, the caller commits in-process);
 * batches are committed one at a time in the order they were sent; the caller publishes events only after the
 * batch's results came back (i.e. after the commit); if the thread dies, every batch it had not answered is
 * reported failed and the next batch starts a new thread; close() waits for the batches in flight; the thread
 * keeps the process alive only while a batch is in flight.
 */
import { Worker } from 'node:worker_threads';
import type { DeliverySql, EncodedJob, WriteResult } from './mailWrites.ts';

/** What the thread starts with: where the database is, its connection pragmas, the delivery statements. */
export interface WriterData {
  path: string;
  busyTimeoutMs: number;
  pragmas: string[];
  sql: DeliverySql;
}
/** Requests to the thread. */
export type WriterRequest = { id: number; jobs: EncodedJob[]; syncDirs: string[] };
/** Answers from the thread: one result per job of a request, or `fatal` when the thread cannot start. */
export type WriterReply = { id: number; results: WriteResult[] } | { fatal: { message: string; stack?: string } };

interface InFlight {
  jobs: number;
  resolve(r: WriteResult[]): void;
}

export function createMailWriter(data: WriterData) {
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
    const w = new Worker(new URL('./mailWriterThread.mjs', import.meta.url), { workerData: data });
    w.on('message', (m: WriterReply) => {
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
        failAll(Object.assign(new Error(`mail writer: ${m.fatal.message}`), { stack: m.fatal.stack }));
      }
    });
    const died = (e: Error) => {
      if (worker === w) worker = null;
      failAll(e);
    };
    w.on('error', died);
    w.on('exit', (code) => died(new Error(`mail writer thread exited (code ${code})`)));
    // After the listeners: adding a 'message' listener refs the worker again.
    w.unref();
    return w;
  };

  return {
    /**
     * fsyncs `syncDirs`, then commits the jobs as one batch, on the writer thread. Never rejects: failures are
     * per-job results.
     */
    write(jobs: EncodedJob[], syncDirs: string[] = []): Promise<WriteResult[]> {
      worker ??= start();
      const id = nextId++;
      return new Promise((resolve) => {
        if (inFlight.size === 0) worker!.ref();
        inFlight.set(id, { jobs: jobs.length, resolve });
        worker!.postMessage({ id, jobs, syncDirs } satisfies WriterRequest);
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

export type MailWriter = ReturnType<typeof createMailWriter>;
