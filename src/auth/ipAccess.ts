/**
 * The admin's side of the login blocks (bruteForce.ts enforces them): list the live entries, block an IP (for some
 * minutes, or permanently: the manual blacklist), allow-list an IP (never blocked), lift an entry (an IP, or
 * `account:<address>` for a blocked account). Rules: an IP must be one address (IPv4 or IPv6, an IPv4-mapped
 * IPv6 one is stored as IPv4), no networks; minutes are 1..525600, or null for permanent; every change is
 * audited (target type `ip` or `account`); the repository publishes `blockedIp.changed`.
 */
import { isIP } from 'node:net';
import type { BlockedIpsRepo } from '../repos/blockedIps.ts';
import { type Issue, ValidationError } from '../repos/errors.ts';
import type { Repos } from '../repos/index.ts';
import type { BlockedIpRow } from '../repos/rows.ts';
import { ACCOUNT_PREFIX, ipKey } from './bruteForce.ts';

export const MAX_BLOCK_MINUTES = 525_600;

function checkIp(ip: string): Issue[] {
  return isIP(ipKey(ip)) ? [] : [{ path: ['ip'], message: 'must be one IPv4 or IPv6 address' }];
}

export function createIpAccess(repos: Pick<Repos, 'audit'> & { blockedIps: BlockedIpsRepo }) {
  const target = (key: string) =>
    key.startsWith(ACCOUNT_PREFIX) ? (['account', key.slice(ACCOUNT_PREFIX.length)] as const) : (['ip', key] as const);
  return {
    list(): BlockedIpRow[] {
      return repos.blockedIps.list();
    },

    block(actor: string, ip: string, minutes: number | null, reason: string): BlockedIpRow {
      const issues = checkIp(ip);
      if (minutes !== null && (!Number.isSafeInteger(minutes) || minutes < 1 || minutes > MAX_BLOCK_MINUTES))
        issues.push({ path: ['minutes'], message: `must be 1 to ${MAX_BLOCK_MINUTES}, or null for permanent` });
      if (reason.length > 256) issues.push({ path: ['reason'], message: 'must be at most 256 characters' });
      if (issues.length) throw new ValidationError(issues);
      const now = Date.now();
      const row = repos.blockedIps.set(
        {
          ip: ipKey(ip),
          kind: 'manual',
          reason: reason || 'blocked by an administrator',
          until: minutes === null ? null : now + minutes * 60_000,
        },
        now,
      );
      repos.audit.record(actor, 'auth.block', 'ip', row.ip, { minutes, reason: row.reason });
      return row;
    },

    allow(actor: string, ip: string, reason: string): BlockedIpRow {
      const issues = checkIp(ip);
      if (reason.length > 256) issues.push({ path: ['reason'], message: 'must be at most 256 characters' });
      if (issues.length) throw new ValidationError(issues);
      const row = repos.blockedIps.set({ ip: ipKey(ip), kind: 'allow', reason: reason || 'allow-listed', until: null });
      repos.audit.record(actor, 'auth.allow', 'ip', row.ip, { reason: row.reason });
      return row;
    },

    /** Lifts an entry (block or allow); NotFoundError when there is none. */
    unblock(actor: string, ip: string): BlockedIpRow {
      const key = ip.startsWith(ACCOUNT_PREFIX) ? ip.trim().toLowerCase() : ipKey(ip);
      const row = repos.blockedIps.remove(key);
      const [type, name] = target(row.ip);
      repos.audit.record(actor, 'auth.unblock', type, name, { kind: row.kind });
      return row;
    },
  };
}

export type IpAccess = ReturnType<typeof createIpAccess>;
