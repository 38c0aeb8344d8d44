/**
 * The one DNS resolver: every lookup of Mailyard (MX, A/AAAA, TXT for SPF/DKIM/DMARC, PTR; later outbound
 * delivery, ACME, MTA-STS) goes through it, never through the system resolver. Rules (RFC 1035, RFC 2308,
 * RFC 7766): queries go to `dns.servers` in order (each tried once per lookup, `dns.timeout` each), over UDP with
 * EDNS0 (1232-byte answers), and again over TCP when the UDP answer is truncated; an answer is cached for the
 * smallest TTL of its records (at most a day), a negative one (NXDOMAIN, no data) for its SOA minimum (at most an
 * hour; 5 minutes without an SOA), SERVFAIL and timeouts not at all; the cache holds at most `maxEntries` names
 * (the least recently used goes first); concurrent lookups of one name and type share one query; CNAMEs in an
 * answer are followed to the records asked for. Errors carry Node's dns codes (ENOTFOUND, ENODATA, ESERVFAIL,
 * ETIMEOUT, EREFUSED, EBADRESP), and results have the shapes of node:dns/promises, so libraries that take a
 * resolver (mailauth) can use this one as they would Node's.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP, connect as tcpConnect } from 'node:net';
import * as packet from 'dns-packet';

export type RecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR' | 'CNAME';

/** Results by type, as node:dns/promises gives them. */
export interface Results {
  A: string[];
  AAAA: string[];
  MX: { exchange: string; priority: number }[];
  TXT: string[][];
  PTR: string[];
  CNAME: string[];
}

export interface ResolverOptions {
  /** "ip", "ip:port" or "[ipv6]:port"; empty: the nameservers of /etc/resolv.conf. */
  servers: readonly string[];
  timeoutMs: number;
  maxEntries?: number;
  /** The clock (tests move it). */
  now?: () => number;
}

interface Server {
  host: string;
  port: number;
}

/** A cached outcome: records of one name and type, or the error code of a negative answer. */
interface Entry {
  expires: number;
  data?: unknown;
  code?: 'ENOTFOUND' | 'ENODATA';
}

const MAX_TTL_S = 86_400;
const MAX_NEGATIVE_TTL_S = 3_600;
const DEFAULT_NEGATIVE_TTL_S = 300;
const UDP_PAYLOAD = 1232;

export class DnsError extends Error {
  constructor(
    readonly code: string,
    readonly hostname: string,
    readonly syscall: string,
  ) {
    super(`${syscall} ${code} ${hostname}`);
    this.name = 'DnsError';
  }
}

/** Parses a `dns.servers` entry. */
export function parseServer(s: string): Server {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) return { host: bracket[1]!, port: Number(bracket[2] ?? 53) };
  if (isIP(s)) return { host: s, port: 53 };
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

/** The nameservers of /etc/resolv.conf (the default when `dns.servers` is empty). */
export function systemNameservers(file = '/etc/resolv.conf'): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((x): x is string => !!x && isIP(x.split('%')[0]!) !== 0)
      .map((x) => (isIP(x) === 6 ? `[${x}]:53` : `${x}:53`));
  } catch {
    return [];
  }
}

const lower = (name: string) => name.replace(/\.$/, '').toLowerCase();

export function createResolver(opts: ResolverOptions) {
  const servers = (opts.servers.length ? opts.servers : systemNameservers()).map(parseServer);
  const now = opts.now ?? Date.now;
  const maxEntries = opts.maxEntries ?? 10_000;
  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<unknown>>();

  /** One exchange with one server: UDP, then TCP if truncated. */
  async function ask(server: Server, query: Buffer, id: number): Promise<packet.Packet> {
    const udp = await exchangeUdp(server, query, id, opts.timeoutMs);
    if (!(udp.flags! & packet.TRUNCATED_RESPONSE)) return udp;
    return exchangeTcp(server, query, id, opts.timeoutMs);
  }

  async function query(name: string, type: RecordType): Promise<packet.Packet> {
    let last: Error = new DnsError('ECONNREFUSED', name, `query${type}`);
    if (!servers.length) throw new DnsError('ECONNREFUSED', name, `query${type}`);
    for (const server of servers) {
      const id = randomInt(0, 65_536);
      const q = packet.encode({
        type: 'query',
        id,
        flags: packet.RECURSION_DESIRED,
        questions: [{ type, name, class: 'IN' }],
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: UDP_PAYLOAD } as packet.Answer],
      });
      try {
        const res = await ask(server, q, id);
        const rcode = (res as { rcode?: string }).rcode;
        // SERVFAIL and REFUSED: the next server may do better.
        if (rcode === 'SERVFAIL' || rcode === 'REFUSED') {
          last = new DnsError(rcode === 'SERVFAIL' ? 'ESERVFAIL' : 'EREFUSED', name, `query${type}`);
          continue;
        }
        return res;
      } catch (e) {
        last =
          e instanceof DnsError
            ? e
            : new DnsError((e as NodeJS.ErrnoException).code ?? 'EBADRESP', name, `query${type}`);
      }
    }
    throw last;
  }

  /** The records of `type` for `name` in a response, following CNAMEs within it; and their smallest TTL. */
  function extract(res: packet.Packet, name: string, type: RecordType): { data: unknown[]; ttl: number } {
    const answers = res.answers ?? [];
    let target = lower(name);
    let ttl = MAX_TTL_S;
    const seen = new Set<string>();
    if (type !== 'CNAME')
      for (;;) {
        const c = answers.find((a) => a.type === 'CNAME' && lower(a.name) === target) as
          | { ttl?: number; data: string }
          | undefined;
        if (!c || seen.has(target)) break;
        seen.add(target);
        ttl = Math.min(ttl, c.ttl ?? 0);
        target = lower(c.data as string);
      }
    const data: unknown[] = [];
    for (const a of answers as { type: string; name: string; ttl?: number; data: unknown }[]) {
      if (a.type !== type || lower(a.name) !== target) continue;
      ttl = Math.min(ttl, a.ttl ?? 0);
      if (type === 'MX') {
        const mx = a.data as { exchange: string; preference: number };
        data.push({ exchange: mx.exchange, priority: mx.preference });
      } else if (type === 'TXT')
        data.push((a.data as (Buffer | string)[]).map((b) => (Buffer.isBuffer(b) ? b.toString('utf8') : b)));
      else data.push(a.data);
    }
    return { data, ttl };
  }

  /** A negative answer's cache time: the SOA minimum (RFC 2308 5), capped. */
  const negativeTtl = (res: packet.Packet) => {
    const soa = (res.authorities ?? []).find((a) => a.type === 'SOA');
    if (!soa) return DEFAULT_NEGATIVE_TTL_S;
    const min = (soa.data as { minimum?: number }).minimum ?? DEFAULT_NEGATIVE_TTL_S;
    return Math.min(soa.ttl ?? min, min, MAX_NEGATIVE_TTL_S);
  };

  const remember = (key: string, entry: Entry) => {
    cache.delete(key);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, entry);
  };

  async function lookup(name: string, type: RecordType): Promise<unknown> {
    const res = await query(name, type);
    const key = `${type} ${lower(name)}`;
    const rcode = (res as { rcode?: string }).rcode;
    if (rcode === 'NXDOMAIN') {
      remember(key, { expires: now() + negativeTtl(res) * 1000, code: 'ENOTFOUND' });
      throw new DnsError('ENOTFOUND', name, `query${type}`);
    }
    if (rcode && rcode !== 'NOERROR') throw new DnsError('EBADRESP', name, `query${type}`);
    const { data, ttl } = extract(res, name, type);
    if (!data.length) {
      remember(key, { expires: now() + negativeTtl(res) * 1000, code: 'ENODATA' });
      throw new DnsError('ENODATA', name, `query${type}`);
    }
    remember(key, { expires: now() + Math.max(0, ttl) * 1000, data });
    return data;
  }

  const resolver = {
    /** The records of `type` for `name` (cached; one query in flight per name and type). */
    resolve<T extends RecordType>(name: string, type: T): Promise<Results[T]> {
      const key = `${type} ${lower(name)}`;
      const hit = cache.get(key);
      if (hit && hit.expires > now()) {
        // Most recently used last.
        cache.delete(key);
        cache.set(key, hit);
        if (hit.code) return Promise.reject(new DnsError(hit.code, name, `query${type}`));
        return Promise.resolve(hit.data as Results[T]);
      }
      let p = inFlight.get(key);
      if (!p) {
        p = lookup(name, type).finally(() => inFlight.delete(key));
        inFlight.set(key, p);
      }
      return p as Promise<Results[T]>;
    },
    resolve4: (name: string) => resolver.resolve(name, 'A'),
    resolve6: (name: string) => resolver.resolve(name, 'AAAA'),
    resolveMx: (name: string) => resolver.resolve(name, 'MX'),
    resolveTxt: (name: string) => resolver.resolve(name, 'TXT'),
    resolveCname: (name: string) => resolver.resolve(name, 'CNAME'),
    /** PTR names of an IPv4 or IPv6 address. */
    reverse(ip: string): Promise<string[]> {
      return resolver.resolve(reverseName(ip), 'PTR');
    },
    /** How many name+type outcomes are cached (for tests and metrics). */
    get cacheSize(): number {
      return cache.size;
    },
  };
  return resolver;
}

export type Resolver = ReturnType<typeof createResolver>;

/** The in-addr.arpa / ip6.arpa name of an address. */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (isIP(ip) !== 6) throw new DnsError('EINVAL', ip, 'getHostByAddr');
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const hex = all.map((g) => g.padStart(4, '0')).join('');
  return `${[...hex].reverse().join('.')}.ip6.arpa`;
}

function exchangeUdp(server: Server, query: Buffer, id: number, timeoutMs: number): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    const done = (f: () => void) => {
      clearTimeout(timer);
      sock.close();
      f();
    };
    const timer = setTimeout(() => done(() => reject(new DnsError('ETIMEOUT', '', 'query'))), timeoutMs);
    sock.on('error', (e) => done(() => reject(e)));
    sock.on('message', (msg, rinfo) => {
      // Only the server asked, and only the answer to this query (RFC 5452: id and source must match).
      if (rinfo.port !== server.port) return;
      let res: packet.Packet;
      try {
        res = packet.decode(msg);
      } catch {
        return;
      }
      if (res.id !== id || res.type !== 'response') return;
      done(() => resolve(res));
    });
    sock.send(query, server.port, server.host, (e) => {
      if (e) done(() => reject(e));
    });
  });
}

function exchangeTcp(server: Server, query: Buffer, id: number, timeoutMs: number): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect(server.port, server.host);
    let buf = Buffer.alloc(0);
    const done = (f: () => void) => {
      clearTimeout(timer);
      sock.destroy();
      f();
    };
    const timer = setTimeout(() => done(() => reject(new DnsError('ETIMEOUT', '', 'query'))), timeoutMs);
    sock.on('error', (e) => done(() => reject(e)));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      try {
        const res = packet.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        if (res.id !== id) throw new Error('id mismatch');
        done(() => resolve(res));
      } catch {
        done(() => reject(new DnsError('EBADRESP', '', 'query')));
      }
    });
    sock.on('end', () => done(() => reject(new DnsError('EBADRESP', '', 'query'))));
  });
}
