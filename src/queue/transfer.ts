/**
 * One delivery attempt of one message to one destination domain (RFC 5321 5.1, 4.5.4): the recipients of that
 * domain go in one SMTP transaction. Rules: MX hosts are tried in preference order, each of their addresses in
 * turn, until a server answers MAIL FROM; a host that cannot be reached, greets with an error or fails TLS only
 * moves the attempt to the next address; once a server has answered, its replies decide (per recipient: RCPT, then
 * the DATA reply for the accepted ones). TLS: STARTTLS whenever offered (opportunistic; a failed handshake is
 * retried in clear on a new connection, as Postfix does) unless queue.require_tls is on or the domain publishes an
 * MTA-STS policy in `enforce` mode: then only MX hosts the policy names, with a certificate valid for the host
 * name, are used, never clear text, else the message is deferred. Null MX (RFC 7505) and a domain that does not
 * exist bounce at once; DNS trouble defers. Connections are cached per address and TLS mode for the next message.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Config } from '../config/load.ts';
import type { Resolver } from '../dns/resolver.ts';
import type { Logger } from '../log/logger.ts';
import type { QueueRow } from '../repos/rows.ts';
import type { ConnectionCache } from './connectionCache.ts';
import { type MtaSts, mxMatches } from './mtaSts.ts';
import { resolveDestination } from './mx.ts';
import { type Attempt, fromReply, local } from './reply.ts';
import { type Envelope, openSmtpConnection, SmtpClientError, type SmtpConnection } from './smtpClient.ts';

export interface TransferDeps {
  config: Config;
  dns: Resolver;
  mtaSts: MtaSts | null;
  cache: ConnectionCache;
  ca?: string;
  log: Logger;
}

export interface TransferResult {
  /** Per row id. */
  outcomes: Map<number, Attempt>;
  /** The server that answered (null: none did). */
  mx: string | null;
  ip: string | null;
  tls: { version: string; cipher: string; authorized: boolean } | null;
  /** The server offered DSN (RFC 3461): NOTIFY=SUCCESS is its to honour, not ours. */
  dsn: boolean;
}

type TlsMode = 'opportunistic' | 'required' | 'none';

const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s);

function envelopeOf(rows: QueueRow[], size: number): Envelope {
  const first = rows[0]!;
  return {
    from: first.sender,
    to: rows.map((r) => ({
      address: r.recipient,
      ...(r.dsn_notify && { notify: r.dsn_notify }),
      ...(r.dsn_orcpt && { orcpt: r.dsn_orcpt }),
    })),
    size,
    ...(first.dsn_ret && { ret: first.dsn_ret as 'FULL' | 'HDRS' }),
    ...(first.dsn_envid && { envid: first.dsn_envid }),
    smtputf8: !isAscii(first.sender) || rows.some((r) => !isAscii(r.recipient)),
    eightBitMime: true,
  };
}

export async function transfer(deps: TransferDeps, domain: string, rows: QueueRow[]): Promise<TransferResult> {
  const { config, log } = deps;
  const result: TransferResult = { outcomes: new Map(), mx: null, ip: null, tls: null, dsn: false };
  const all = (a: Attempt) => {
    for (const r of rows) result.outcomes.set(r.id, a);
    return result;
  };

  const dest = await resolveDestination(deps.dns, domain);
  if (dest.kind === 'nullmx')
    return all(local('bounced', '5.1.10', `556 5.1.10 ${domain} does not accept mail (null MX, RFC 7505)`));
  if (dest.kind === 'permanent') return all(local('bounced', dest.enhanced, `550 ${dest.enhanced} ${dest.reason}`));
  if (dest.kind === 'temporary') return all(local('deferred', '4.4.3', `451 4.4.3 ${dest.reason}`));

  let hosts = dest.hosts;
  let mode: TlsMode = config.queue.require_tls ? 'required' : 'opportunistic';
  if (deps.mtaSts) {
    const policy = await deps.mtaSts.policyFor(domain).catch((err: unknown) => {
      log.warn({ err, domain }, 'MTA-STS policy lookup failed');
      return null;
    });
    if (policy?.mode === 'enforce') {
      hosts = hosts.filter((h) => mxMatches(policy, h.name));
      mode = 'required';
      if (!hosts.length)
        return all(local('deferred', '4.7.5', `451 4.7.5 MTA-STS policy of ${domain}: no MX host matches the policy`));
    }
  }

  const body = messageBody(rows[0]!.spool_file);
  const size = typeof body === 'string' ? rows[0]!.size : body.length;
  const envelope = envelopeOf(rows, size);
  let last: Attempt = local('deferred', '4.4.1', `451 4.4.1 no MX host of ${domain} could be reached`);
  for (const host of hosts) {
    for (const ip of host.addresses) {
      let conn: SmtpConnection;
      try {
        conn = await connect(deps, ip, host.name, mode);
      } catch (err: unknown) {
        last = failure(err, host.name, ip, mode);
        log.info({ domain, mx: host.name, ip, err: (err as Error).message }, 'outbound connection failed');
        continue;
      }
      let sent: Awaited<ReturnType<SmtpConnection['send']>>;
      try {
        sent = await conn.send(envelope, body);
      } catch (err) {
        conn.close();
        last = failure(err, host.name, ip, mode);
        log.info({ domain, mx: host.name, ip, err: (err as Error).message }, 'outbound transaction failed');
        // The connection broke after the server took part: the next address gets the whole message again.
        continue;
      }
      result.mx = host.name;
      result.ip = ip;
      result.tls = conn.tls && { version: conn.tls.version, cipher: conn.tls.cipher, authorized: conn.tls.authorized };
      result.dsn = conn.extensions.has('DSN');
      if (Math.floor(sent.mail.code / 100) !== 2) {
        all(fromReply(sent.mail, host.name));
      } else {
        rows.forEach((r, i) => {
          const rcpt = sent.rcpts[i]!;
          result.outcomes.set(
            r.id,
            Math.floor(rcpt.code / 100) !== 2 || !sent.data
              ? fromReply(rcpt, host.name)
              : fromReply(sent.data, host.name),
          );
        });
      }
      release(deps, conn, ip, mode);
      return result;
    }
  }
  return all(last);
}

/** Up to this size a message is read here, to drop the Return-Path a local copy needed (RFC 5321 4.4). */
const STRIP_UP_TO = 4 * 1024 * 1024;

/**
 * What is sent: the queued file without the Return-Path field(s) the store wrote for local copies (a relay must
 * not send one, RFC 5321 4.4: the final delivery adds it); a larger file is streamed as it is.
 */
function messageBody(path: string): string | Buffer {
  if (statSync(path).size > STRIP_UP_TO) return path;
  const data = readFileSync(path);
  const keep: Buffer[] = [];
  let at = 0;
  let from = 0;
  for (;;) {
    const eol = data.indexOf(10, at);
    // The end of the header section (an empty line) or of the data: the rest goes as it is.
    if (eol < 0 || data[at] === 10 || (data[at] === 13 && data[at + 1] === 10)) break;
    if (
      data
        .subarray(at, at + 12)
        .toString('latin1')
        .toLowerCase() === 'return-path:'
    ) {
      let end = eol;
      while (data[end + 1] === 32 || data[end + 1] === 9) {
        const next = data.indexOf(10, end + 1);
        if (next < 0) break;
        end = next;
      }
      keep.push(data.subarray(from, at));
      from = end + 1;
      at = end + 1;
      continue;
    }
    at = eol + 1;
  }
  if (from === 0) return data;
  keep.push(data.subarray(from));
  return Buffer.concat(keep);
}

const cacheKey = (ip: string, port: number, mode: TlsMode) => `${ip}:${port}:${mode}`;

async function connect(deps: TransferDeps, ip: string, mxName: string, mode: TlsMode): Promise<SmtpConnection> {
  const { config } = deps;
  const port = config.smtp.outbound_port;
  // A cached connection is RSET first (connectionCache.ts); one the server closed meanwhile is no failure.
  const cached = deps.cache.take(cacheKey(ip, port, mode));
  if (cached && cached.mxName === mxName) {
    try {
      await cached.reset();
      return cached;
    } catch {
      cached.close();
    }
  } else if (cached) void cached.quit().catch(() => {});
  const open = (tls: TlsMode) =>
    openSmtpConnection({
      host: ip,
      port,
      mxName,
      localName: config.server.hostname ?? 'localhost',
      connectTimeoutMs: config.queue.connect_timeout * 1000,
      commandTimeoutMs: config.queue.command_timeout * 1000,
      tls,
      ...(deps.ca && { ca: deps.ca }),
    });
  try {
    return await open(mode);
  } catch (err) {
    // Opportunistic TLS that fails its handshake: try again in clear text, as Postfix does.
    if (mode === 'opportunistic' && err instanceof SmtpClientError && err.kind === 'tls') return open('none');
    throw err;
  }
}

function release(deps: TransferDeps, conn: SmtpConnection, ip: string, mode: TlsMode): void {
  if (conn.usable) deps.cache.put(cacheKey(ip, deps.config.smtp.outbound_port, mode), conn);
  else conn.close();
}

function failure(err: unknown, mx: string, ip: string, mode: TlsMode): Attempt {
  if (err instanceof SmtpClientError) {
    if (err.kind === 'tls' && mode === 'required')
      return local('deferred', '4.7.5', `451 4.7.5 TLS required for ${mx} [${ip}]: ${err.message}`, mx);
    if (err.reply) return { ...fromReply(err.reply, mx), verdict: 'deferred' };
    return local('deferred', '4.4.1', `451 4.4.1 ${mx} [${ip}]: ${err.message}`, mx);
  }
  return local('deferred', '4.4.1', `451 4.4.1 ${mx} [${ip}]: ${(err as Error).message}`, mx);
}
