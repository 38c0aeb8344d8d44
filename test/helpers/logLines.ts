// A logger for an in-process test server whose lines the test reads back: every JSON line it writes, parsed.
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

export function capturedLog(level = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level }, sink), lines };
}
