/**
 * Inside the authentication thread: SPF (checkSpf) and DKIM/DMARC/ARC (verifyMessage) with mailauth, through a
 * resolver of its own built from the same dns settings (src/dns, never the system resolver). Rules: one request
 * at a time per message, answered with its id; results are plain data (mailauth's raw results stay here); an
 * error is answered as an error, never kills the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createResolver } from '../dns/resolver.ts';
import { verifyMessage } from './authenticate.ts';
import type { AuthRequest, AuthThreadData } from './authThread.ts';
import { checkSpf } from './spf.ts';

const data = workerData as AuthThreadData;
const resolver = createResolver({ servers: data.servers, timeoutMs: data.timeoutMs });

parentPort!.on('message', async (req: AuthRequest) => {
  try {
    if (req.kind === 'spf') {
      const result = await checkSpf({ ...req.input, resolver });
      parentPort!.postMessage({ id: req.id, result });
    } else {
      const { raw: _raw, ...result } = await verifyMessage(req.path, { ...req.input, resolver });
      parentPort!.postMessage({ id: req.id, result });
    }
  } catch (e) {
    parentPort!.postMessage({ id: req.id, error: { message: (e as Error).message } });
  }
});
