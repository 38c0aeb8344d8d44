/**
 * pino logger per the `logger` config section. Rules: `msg` strings of operational events are stable, greppable
 * names (see LOG_EVENTS); details go in fields, never interpolated into the message.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from '../config/load.ts';

/** The guide's monitoring section greps for these. */
export const LOG_EVENTS = {
  authFailed: 'authentication failed',
  rateLimited: 'rate_limit_exceeded',
  virus: 'virus_detected',
  spam: 'spam detected',
  spamRejected: 'spam rejected',
  dkimFail: 'dkim verification failed',
  spfFail: 'spf check failed',
  dmarcFail: 'dmarc policy failed',
  greylisted: 'greylisted',
  scannerFailed: 'scanner unavailable',
  policy: 'policy decision',
} as const;

export type { Logger };

export function createLogger(cfg: Config['logger']): Logger {
  const human = cfg.format !== 'json';
  let fd: number | string = 1;
  if (cfg.output_path === 'stderr') fd = 2;
  else if (cfg.output_path !== 'stdout') {
    mkdirSync(dirname(cfg.output_path), { recursive: true });
    fd = cfg.output_path;
  }
  const dest: DestinationStream = human
    ? pretty({
        colorize: false,
        destination: fd,
        sync: true,
        singleLine: true,
        translateTime: 'SYS:standard',
        ignore: 'pid,hostname,service',
      })
    : pino.destination({ dest: fd, sync: false, mkdir: true });
  return pino({ level: cfg.level, base: { service: 'mailyard' }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}
