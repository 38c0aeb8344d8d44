/**
 * Where mail for a domain goes (RFC 5321 5.1, RFC 7505). Rules: every lookup goes through the project's resolver
 * (src/dns/resolver.ts); MX hosts come in preference order, hosts of equal preference shuffled (`random`, for
 * tests); each host's addresses are its A records, then its AAAA records; a host without any address is skipped,
 * and when no host has one the destination is temporary (a name may come back); at most MAX_HOSTS hosts are
 * looked up. A domain without MX records (NODATA) is its own implicit MX (its A/AAAA, `implicit: true`); a domain
 * that does not exist (NXDOMAIN) is a permanent failure (5.1.2), and so is one with neither MX nor address; a
 * single MX "." of preference 0 is a null MX (the caller bounces with 556 5.1.10), a "." among other MX records is
 * ignored; timeouts, SERVFAIL and other resolver errors are temporary. An address literal (`[192.0.2.1]`,
 * `[IPv6:2001:db8::1]`) is delivered to as is, without DNS; so are MX hosts that are IP literals. Internationalized
 * domains are looked up in their A-label form.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import type { Resolver } from '../dns/resolver.ts';

export interface MxHost {
  name: string;
  priority: number;
  addresses: string[];
}

export type Destination =
  | { kind: 'hosts'; hosts: MxHost[]; implicit: boolean }
  | { kind: 'nullmx' }
  | { kind: 'permanent'; reason: string; enhanced: string }
  | { kind: 'temporary'; reason: string };

export interface ResolveOptions {
  /** A number in [0, 1) (Math.random by default): the shuffle of equal preferences. */
  random?: () => number;
}

/** A hostile domain may list hundreds of MX hosts: only the first ones (in preference order) are looked up. */
export const MAX_HOSTS = 10;

/** Errors that say a name or record does not exist (final answers), as opposed to failures to get an answer. */
const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA']);

const codeOf = (e: unknown): string => (e as { code?: string })?.code ?? 'EUNKNOWN';

/** The address of an address literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`), null if malformed. */
export function addressLiteral(domain: string): string | null {
  const m = /^\[(.*)\]$/.exec(domain);
  if (!m) return null;
  const inner = m[1]!;
  if (/^ipv6:/i.test(inner)) {
    const a = inner.slice(5);
    return isIP(a) === 6 ? a : null;
  }
  return isIP(inner) === 4 ? inner : null;
}

/** The A then AAAA addresses of `name`: `addresses`, or the error code when neither answered and one failed. */
async function addressesOf(
  dns: Resolver,
  name: string,
): Promise<{ addresses: string[]; failure?: string; nxdomain: boolean }> {
  const [a, aaaa] = await Promise.allSettled([dns.resolve(name, 'A'), dns.resolve(name, 'AAAA')]);
  const addresses = [...(a.status === 'fulfilled' ? a.value : []), ...(aaaa.status === 'fulfilled' ? aaaa.value : [])];
  const failures = [a, aaaa]
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => codeOf(r.reason));
  const failure = failures.find((c) => !NEGATIVE.has(c));
  return { addresses, failure, nxdomain: failures.includes('ENOTFOUND') };
}

/** Shuffles hosts of equal preference (Fisher-Yates within each preference), sorted by preference. */
function order<T extends { priority: number }>(items: T[], random: () => number): T[] {
  const byPriority = new Map<number, T[]>();
  for (const it of items) byPriority.set(it.priority, [...(byPriority.get(it.priority) ?? []), it]);
  return [...byPriority.keys()]
    .sort((x, y) => x - y)
    .flatMap((p) => {
      const group = byPriority.get(p)!;
      for (let i = group.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [group[i], group[j]] = [group[j]!, group[i]!];
      }
      return group;
    });
}

const normalize = (name: string) => name.replace(/\.$/, '').toLowerCase();

/** Where mail for `domain` goes: its MX hosts with their addresses, a null MX, or why not (see the rules above). */
export async function resolveDestination(
  dns: Resolver,
  domain: string,
  opts: ResolveOptions = {},
): Promise<Destination> {
  const random = opts.random ?? Math.random;
  const d = domain.trim();
  if (d.startsWith('[')) {
    const ip = addressLiteral(d);
    if (!ip) return { kind: 'permanent', reason: `malformed address literal ${d}`, enhanced: '5.1.2' };
    return { kind: 'hosts', hosts: [{ name: d, priority: 0, addresses: [ip] }], implicit: true };
  }
  const name = domainToASCII(normalize(d));
  if (!name) return { kind: 'permanent', reason: `invalid domain ${d}`, enhanced: '5.1.2' };

  let mx: { exchange: string; priority: number }[];
  try {
    mx = await dns.resolve(name, 'MX');
  } catch (e) {
    const code = codeOf(e);
    if (code === 'ENOTFOUND') return { kind: 'permanent', reason: `domain ${name} does not exist`, enhanced: '5.1.2' };
    if (code !== 'ENODATA') return { kind: 'temporary', reason: `MX lookup of ${name} failed: ${code}` };
    // No MX records: the domain is its own (implicit) MX, RFC 5321 5.1.
    const own = await addressesOf(dns, name);
    if (own.addresses.length)
      return { kind: 'hosts', hosts: [{ name, priority: 0, addresses: own.addresses }], implicit: true };
    if (own.failure) return { kind: 'temporary', reason: `address lookup of ${name} failed: ${own.failure}` };
    return { kind: 'permanent', reason: `domain ${name} has no MX and no address`, enhanced: '5.1.2' };
  }

  const records = mx.map((r) => ({ name: normalize(r.exchange), priority: r.priority }));
  // RFC 7505 3: a null MX is the only MX record, "." with preference 0.
  if (records.length === 1 && records[0]!.name === '' && records[0]!.priority === 0) return { kind: 'nullmx' };
  const seen = new Set<string>();
  const hosts = order(
    records.filter((r) => r.name !== '' && !seen.has(r.name) && seen.add(r.name)),
    random,
  ).slice(0, MAX_HOSTS);
  if (!hosts.length) return { kind: 'nullmx' };

  const resolved = await Promise.all(
    hosts.map(async (h) => {
      const literal = addressLiteral(h.name) ?? (isIP(h.name) ? h.name : null);
      if (literal) return { host: { ...h, addresses: [literal] }, failure: undefined };
      const r = await addressesOf(dns, h.name);
      return {
        host: { ...h, addresses: r.addresses },
        failure: r.failure ?? (r.addresses.length ? undefined : 'none'),
      };
    }),
  );
  const usable = resolved.filter((r) => r.host.addresses.length).map((r) => r.host);
  if (usable.length) return { kind: 'hosts', hosts: usable, implicit: false };
  const why = resolved.map((r) => `${r.host.name}: ${r.failure === 'none' ? 'no address' : r.failure}`).join(', ');
  return { kind: 'temporary', reason: `no MX host of ${name} has an address (${why})` };
}
