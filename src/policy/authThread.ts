/**
 * Message authentication off the event loop: SPF and DKIM/DMARC/ARC (mailauth: header parsing, body hashing,
 * RSA verification; about 1-2 ms of CPU per message) run on a worker thread (authThreadMain.ts), so SMTP sessions
 * keep being served by the main thread while other cores verify (at most two threads: on a two-core machine a
 * third only adds memory). Rules: a thread starts on first use (a
 * server whose domains check nothing never loads mailauth); requests carry an id and are answered in any order;
 * if the thread dies, every request it had not answered fails (the caller treats a failed check as no result,
 * never as a verdict) and the next request starts a new thread; the thread keeps the process alive only while a
 * request is in flight; close() ends it.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AuthOutcome, VerifyInput } from './authenticate.ts';
import type { SpfInput, SpfOutcome } from './spf.ts';

export interface AuthThreadData {
  servers: readonly string[];
  timeoutMs: number;
}

type SpfRequestInput = Omit<SpfInput, 'resolver'>;
type VerifyRequestInput = Omit<VerifyInput, 'resolver'>;
export type AuthRequest =
  | { id: number; kind: 'spf'; input: SpfRequestInput }
  | { id: number; kind: 'verify'; path: string; input: VerifyRequestInput };
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type AuthReply = { id: number; result: unknown } | { id: number; error: { message: string } };

export type AuthResult = Omit<AuthOutcome, 'raw'>;

function createOneThread(data: AuthThreadData) {
  let worker: Worker | null = null;
  let nextId = 1;
  const inFlight = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  const start = () => {
    const w = new Worker(new URL('./authThread.mjs', import.meta.url), {
      workerData: data,
      // mailauth allocates a lot per message (header copies, canonicalized chunks): a larger young generation
      // makes its scavenges rarer.
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
    });
    w.on('message', (m: AuthReply) => {
      const f = inFlight.get(m.id);
      if (!f) return;
      inFlight.delete(m.id);
      if ('error' in m) f.reject(new Error(m.error.message));
      else f.resolve(m.result);
      if (!inFlight.size) w.unref();
    });
    const fail = (e: Error) => {
      if (worker === w) worker = null;
      for (const [id, f] of inFlight) {
        inFlight.delete(id);
        f.reject(e);
      }
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the authentication thread exited (${code})`)));
    w.unref();
    return w;
  };

  const call = <T>(req: WithoutId<AuthRequest>): Promise<T> => {
    worker ??= start();
    const id = nextId++;
    const w = worker;
    return new Promise<T>((resolve, reject) => {
      inFlight.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.ref();
      w.postMessage({ ...req, id });
    });
  };

  return {
    get busy() {
      return inFlight.size;
    },
    call,
    async close() {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}

/**
 * `threads` authentication threads (each started on first use); a request goes to the one with the fewest
 * requests in flight.
 */
export function createAuthThread(data: AuthThreadData, threads = Math.max(1, Math.min(2, availableParallelism()))) {
  const pool = Array.from({ length: threads }, () => createOneThread(data));
  const pick = () => pool.reduce((a, b) => (b.busy < a.busy ? b : a));
  return {
    spf: (input: SpfRequestInput) => pick().call<SpfOutcome>({ kind: 'spf', input }),
    verify: (path: string, input: VerifyRequestInput) => pick().call<AuthResult>({ kind: 'verify', path, input }),
    async close() {
      await Promise.all(pool.map((t) => t.close()));
    },
  };
}

export type AuthThread = ReturnType<typeof createAuthThread>;
