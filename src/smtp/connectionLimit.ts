/**
 * smtp.max_connections_per_ip for one listener's sessions. Rules: a client address holds at most `max` sessions;
 * one more is refused with 421 4.7.0 (REPLIES.tooManyConnections) and the log line `rate_limit_exceeded`; a
 * session counts from admit() until release() (its close), and an address with no session left is forgotten.
 */
import { LOG_EVENTS, type Logger } from '../log/logger.ts';
import { REPLIES, replyError } from './replies.ts';

export function createConnectionLimit(max: number, log: Logger) {
  const perIp = new Map<string, number>();
  return {
    /** Counts a new session of `ip` in; returns the refusal to answer with when it is one too many. */
    admit(ip: string): Error | null {
      const n = (perIp.get(ip) ?? 0) + 1;
      if (n > max) {
        log.info({ ip, connections: n - 1 }, LOG_EVENTS.rateLimited);
        return replyError(REPLIES.tooManyConnections());
      }
      perIp.set(ip, n);
      return null;
    },
    release(ip: string): void {
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n <= 0) perIp.delete(ip);
      else perIp.set(ip, n);
    },
  };
}
