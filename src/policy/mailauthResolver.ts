/**
 * The project's DNS resolver (src/dns/resolver.ts) in the shape mailauth takes: `(name, rrtype) => Promise`, like
 * node:dns/promises resolve(). Rules: every SPF, DKIM, DMARC and ARC lookup goes through it (never the system
 * resolver; mailauth falls back to node:dns when it has no resolver, so every mailauth call gets one); only the
 * types mailauth asks for are served (TXT, A, AAAA, MX, PTR, CNAME), anything else rejects with ENOTIMP; a name
 * that cannot exist in the DNS (a label over 63 octets, over 253 in all, an empty label) rejects with EBADNAME
 * without a query, as Node does, which mailauth reads as "no record" (DMARC) or permerror (SPF), not temperror;
 * errors keep the resolver's Node codes (ENOTFOUND, ENODATA: no record; ETIMEOUT, ESERVFAIL, ECONNREFUSED...:
 * temperror); answers are copies, since the resolver hands out its cached arrays and mailauth sorts MX lists.
 */
import type { DNSResolver } from 'mailauth';
import { DnsError, type RecordType, type Resolver } from '../dns/resolver.ts';

export type MailauthResolver = DNSResolver;

const TYPES = new Set<string>(['TXT', 'A', 'AAAA', 'MX', 'PTR', 'CNAME']);

/** RFC 1035 2.3.4 sizes (mailauth validates names only loosely). */
function validName(name: string): boolean {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return n.length > 0 && n.length <= 253 && n.split('.').every((l) => l.length > 0 && l.length <= 63);
}

const adapters = new WeakMap<Resolver, MailauthResolver>();

/** mailauth's view of `resolver` (one adapter per resolver). */
export function mailauthResolver(resolver: Resolver): MailauthResolver {
  let adapter = adapters.get(resolver);
  if (adapter) return adapter;
  adapter = async (name: string, rrtype: string) => {
    const type = String(rrtype).toUpperCase();
    if (!TYPES.has(type)) throw new DnsError('ENOTIMP', name, `query${type}`);
    if (!validName(name)) throw new DnsError('EBADNAME', name, `query${type}`);
    let answer: unknown[];
    try {
      answer = await resolver.resolve(name, type as RecordType);
    } catch (e) {
      if (e instanceof DnsError) throw e;
      throw new DnsError((e as NodeJS.ErrnoException)?.code ?? 'EBADRESP', name, `query${type}`);
    }
    // MX answers are objects, not strings: mailauth's declared type is narrower than what it reads.
    return answer.map((r) => (Array.isArray(r) ? [...r] : typeof r === 'object' && r ? { ...r } : r)) as string[];
  };
  adapters.set(resolver, adapter);
  return adapter;
}
