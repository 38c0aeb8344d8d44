/**
 * MTA-STS (RFC 8461): whether a recipient domain requires authenticated TLS to a listed MX host. Rules:
 *  - discovery: the TXT records of `_mta-sts.<domain>` that begin with `v=STSv1` must be exactly one, with a valid
 *    `id` (1-32 letters and digits); the policy is then fetched from `https://mta-sts.<domain>/.well-known/
 *    mta-sts.txt` on `port`, its host name resolved through the project's resolver (never the system's), the
 *    certificate verified for that name against Node's roots plus `ca`, no redirect followed, only a 2xx answer
 *    of media type text/plain accepted, at most MAX_POLICY_BYTES read, within `timeoutMs`;
 *  - the policy (CRLF or LF lines of `key: value`, unknown keys ignored, the first of a repeated key used, every
 *    `mx`) needs `version: STSv1`, `mode` enforce, testing or none, `max_age` (digits; above MAX_AGE_S it is
 *    capped) and, unless mode is none, at least one valid `mx` pattern; anything else is no policy;
 *  - caching (RFC 8461 5.1) in an MtaStsStore: a cached, unexpired policy whose id equals the TXT id is used
 *    without fetching; another id means a fetch, whose result replaces the cached one; when the TXT lookup or the
 *    fetch fails (or gives something invalid), an unexpired cached policy is used, and an expired one is dropped;
 *    `onFailure` is told why (for the log);
 *  - policyFor() resolves to null for no policy and for mode none; concurrent calls for one domain share one
 *    discovery;
 *  - mxMatches (RFC 8461 4.1): a pattern matches a host exactly, or `*.example.com` matches exactly one more
 *    left-most label; case-insensitive, trailing dots ignored.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Resolver } from '../dns/resolver.ts';
import type { MtaStsRow } from '../repos/mtaSts.ts';

export type MtaStsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsPolicy {
  /** The TXT record id the policy was fetched under. */
  id: string;
  mode: 'enforce' | 'testing';
  /** Lowercase MX patterns (`mx.example.com`, `*.example.com`). */
  mx: string[];
  /** Seconds. */
  maxAge: number;
  /** Until when (ms) the policy may be used. */
  expiresAt: number;
}

/** The cache of policies (src/repos/mtaSts.ts in SQLite). */
export interface MtaStsStore {
  get(domain: string): MtaStsRow | undefined;
  put(row: MtaStsRow): void;
  delete(domain: string): void;
}

/** Fetches the policy text of `domain` (from mta-sts.<domain>); throws when it cannot. */
export type PolicyFetch = (domain: string) => Promise<string>;

export interface MtaStsOptions {
  dns: Resolver;
  store: MtaStsStore;
  /** Replaces the HTTPS fetch (the default is fetchPolicyText with the options below). */
  fetch?: PolicyFetch;
  /** The HTTPS port (443; tests use another). */
  port?: number;
  /** Extra trusted CA certificates (PEM), on top of Node's roots. */
  ca?: string | Buffer;
  timeoutMs: number;
  /** The clock, ms. */
  now?: () => number;
  /** Told why discovery found no usable new policy (for the log): no or bad TXT record, fetch or parse error. */
  onFailure?: (domain: string, reason: string) => void;
}

export const MAX_POLICY_BYTES = 64 * 1024;
export const MAX_AGE_S = 31_557_600;
const POLICY_PATH = '/.well-known/mta-sts.txt';

const normalize = (name: string) => name.trim().replace(/\.$/, '').toLowerCase();

/** The id of the one `v=STSv1` TXT record among `records` (each a list of strings), or an error message. */
export function parseTxt(records: string[][]): { id: string } | { error: string } {
  const sts = records.map((r) => r.join('')).filter((r) => r.startsWith('v=STSv1'));
  if (sts.length !== 1) return { error: `${sts.length} STSv1 TXT records` };
  const fields = sts[0]!.split(';').map((f) => f.trim());
  if (fields[0] !== 'v=STSv1') return { error: 'bad version field' };
  const id = fields
    .slice(1)
    .map((f) => /^id=(.*)$/.exec(f)?.[1])
    .find((v) => v !== undefined);
  if (id === undefined || !/^[A-Za-z0-9]{1,32}$/.test(id)) return { error: 'no valid id' };
  return { id };
}

const HOST_PATTERN = /^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A policy file's fields, or an error message (see the rules above). */
export function parsePolicy(text: string): { mode: MtaStsMode; mx: string[]; maxAge: number } | { error: string } {
  const first = new Map<string, string>();
  const mx: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const m = /^([A-Za-z0-9_]+)[ \t]*:[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!m) return { error: `malformed line ${JSON.stringify(line.slice(0, 80))}` };
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'mx') mx.push(value.toLowerCase().replace(/\.$/, ''));
    else if (!first.has(key)) first.set(key, value);
  }
  if (first.get('version') !== 'STSv1') return { error: 'no version STSv1' };
  const mode = first.get('mode');
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') return { error: `bad mode ${mode}` };
  const age = first.get('max_age');
  if (!age || !/^\d{1,10}$/.test(age)) return { error: 'bad max_age' };
  const bad = mx.find((p) => !HOST_PATTERN.test(p));
  if (bad !== undefined) return { error: `bad mx ${bad}` };
  if (mode !== 'none' && !mx.length) return { error: 'no mx' };
  return { mode, mx, maxAge: Math.min(Number(age), MAX_AGE_S) };
}

/** RFC 8461 4.1: does `mxHost` match one of the policy's patterns? */
export function mxMatches(policy: Pick<MtaStsPolicy, 'mx'>, mxHost: string): boolean {
  const host = normalize(mxHost);
  if (!host) return false;
  return policy.mx.some((p) => {
    const pattern = normalize(p);
    if (!pattern.startsWith('*.')) return pattern === host;
    const suffix = pattern.slice(1);
    if (!host.endsWith(suffix)) return false;
    const label = host.slice(0, -suffix.length);
    return label.length > 0 && !label.includes('.');
  });
}

/** A `lookup` for node:net that asks the project's resolver (A, then AAAA). */
export function resolverLookup(dns: Resolver) {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const want = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    const ask = (type: 'A' | 'AAAA') => dns.resolve(hostname, type).catch(() => [] as string[]);
    Promise.all([want === 6 ? [] : ask('A'), want === 4 ? [] : ask('AAAA')]).then(
      ([a, aaaa]) => {
        const all: LookupAddress[] = [
          ...a.map((address) => ({ address, family: 4 })),
          ...aaaa.map((address) => ({ address, family: 6 })),
        ];
        if (!all.length) {
          const e: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          e.code = 'ENOTFOUND';
          callback(e, options.all ? [] : '', 0);
        } else if (options.all) callback(null, all);
        else callback(null, all[0]!.address, all[0]!.family);
      },
      (e: NodeJS.ErrnoException) => callback(e, options.all ? [] : '', 0),
    );
  };
}

export interface FetchOptions {
  dns: Resolver;
  port?: number;
  ca?: string | Buffer;
  timeoutMs: number;
}

/** GETs https://mta-sts.<domain>/.well-known/mta-sts.txt under the rules above; resolves to its text. */
export function fetchPolicyText(domain: string, opts: FetchOptions): Promise<string> {
  const host = `mta-sts.${domain}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, text?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(text!);
    };
    const req = request(
      {
        host,
        servername: host,
        port: opts.port ?? 443,
        path: POLICY_PATH,
        method: 'GET',
        agent: false,
        headers: { 'user-agent': 'Mailyard MTA-STS', accept: 'text/plain' },
        ca: opts.ca ? [...rootCertificates, opts.ca.toString()] : undefined,
        lookup: resolverLookup(opts.dns) as never,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299)
          return finish(new Error(`${host}: HTTP ${status} (redirects are not followed)`));
        const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'text/plain') return finish(new Error(`${host}: media type ${type || 'missing'}, not text/plain`));
        if (Number(res.headers['content-length'] ?? 0) > MAX_POLICY_BYTES)
          return finish(new Error(`${host}: policy larger than ${MAX_POLICY_BYTES} bytes`));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_POLICY_BYTES)
            return finish(new Error(`${host}: policy larger than ${MAX_POLICY_BYTES} bytes`));
          chunks.push(c);
        });
        res.on('end', () => finish(null, Buffer.concat(chunks).toString('utf8')));
        res.on('error', (e) => finish(e));
      },
    );
    const timer = setTimeout(() => finish(new Error(`${host}: timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('error', (e) => finish(new Error(`${host}: ${e.message}`)));
    req.end();
  });
}

const toPolicy = (row: MtaStsRow): MtaStsPolicy | null =>
  row.mode === 'none'
    ? null
    : { id: row.policy_id, mode: row.mode, mx: row.mx, maxAge: row.max_age, expiresAt: row.expires_at };

export function createMtaSts(opts: MtaStsOptions) {
  const now = opts.now ?? Date.now;
  const fetchText: PolicyFetch =
    opts.fetch ??
    ((domain) => fetchPolicyText(domain, { dns: opts.dns, port: opts.port, ca: opts.ca, timeoutMs: opts.timeoutMs }));
  const inFlight = new Map<string, Promise<MtaStsPolicy | null>>();

  async function discover(domain: string): Promise<MtaStsPolicy | null> {
    const cached = opts.store.get(domain);
    const fresh = cached && cached.expires_at > now() ? cached : undefined;
    // A failure: the unexpired cached policy (RFC 8461 5.1), else none (and an expired row goes).
    const fallback = (reason: string) => {
      opts.onFailure?.(domain, reason);
      if (fresh) return toPolicy(fresh);
      if (cached) opts.store.delete(domain);
      return null;
    };
    let id: string;
    try {
      const txt = parseTxt(await opts.dns.resolve(`_mta-sts.${domain}`, 'TXT'));
      if ('error' in txt) return fallback(`_mta-sts.${domain}: ${txt.error}`);
      id = txt.id;
    } catch (e) {
      return fallback(`_mta-sts.${domain}: ${(e as Error).message}`);
    }
    if (fresh && fresh.policy_id === id) return toPolicy(fresh);
    let parsed: ReturnType<typeof parsePolicy>;
    try {
      parsed = parsePolicy(await fetchText(domain));
    } catch (e) {
      return fallback((e as Error).message);
    }
    if ('error' in parsed) return fallback(`mta-sts.${domain}: invalid policy: ${parsed.error}`);
    const at = now();
    const row: MtaStsRow = {
      domain,
      policy_id: id,
      mode: parsed.mode,
      mx: parsed.mx,
      max_age: parsed.maxAge,
      fetched_at: at,
      expires_at: at + parsed.maxAge * 1000,
    };
    opts.store.put(row);
    return toPolicy(row);
  }

  return {
    /** The domain's policy in force (enforce or testing), or null (none, or mode none). */
    policyFor(domain: string): Promise<MtaStsPolicy | null> {
      const d = normalize(domain);
      let p = inFlight.get(d);
      if (!p) {
        p = discover(d).finally(() => inFlight.delete(d));
        inFlight.set(d, p);
      }
      return p;
    },
  };
}

export type MtaSts = ReturnType<typeof createMtaSts>;
