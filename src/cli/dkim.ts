/**
 * `mailyard dkim list|stage|activate|retire <domain> [selector]`: DKIM key rotation from the shell, through the
 * running server's REST API (so its caches and the next SMTP transaction see the change at once). Rules: the API
 * address comes from --api, MAILYARD_API_URL or the config (api.port on server.bind_address, a wildcard address
 * meaning loopback); the token from MAILYARD_API_ADMIN_TOKEN, api.admin_token or <data>/admin-token (read, never
 * created); every command prints the DNS records to publish as zone-file lines (TXT strings split at 255 octets);
 * an API error prints its message and exits 1; a wrong invocation prints usage and exits 2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { type CliIo, EXIT } from './io.ts';

export interface DkimKeyJson {
  selector: string;
  status: 'active' | 'staged' | 'retiring';
  key_type: string;
  key_size: number;
  dns_name: string;
  dns_record: string;
  created_at: string | null;
}

export const DKIM_USAGE =
  'mailyard dkim list|stage|activate|retire DOMAIN [SELECTOR] [--type rsa|ed25519] [--size N] [--config FILE] [--api URL]';

/** A zone-file line for a key's TXT record: `name. IN TXT ( "..." "..." )`. */
export function zoneLine(k: Pick<DkimKeyJson, 'dns_name' | 'dns_record'>): string {
  const parts = k.dns_record.match(/.{1,255}/g) ?? [''];
  const strings = parts.map((s) => `"${s}"`).join(' ');
  return `${k.dns_name}. IN TXT ${parts.length > 1 ? `( ${strings} )` : strings}`;
}

function apiTarget(io: CliIo, values: Record<string, string | boolean | undefined>) {
  const { config, warnings } = loadConfig({
    file: (values.config as string | undefined) ?? io.env.MAILYARD_CONFIG,
    env: io.env,
    cwd: io.cwd,
  });
  for (const w of warnings) io.err(`warning: ${w}\n`);
  let base = (values.api as string | undefined) ?? io.env.MAILYARD_API_URL;
  if (!base) {
    const bind = config.server.bind_address;
    const host =
      !bind || bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '[::1]' : bind.includes(':') ? `[${bind}]` : bind;
    base = `http://${host}:${config.api.port}`;
  }
  let token = config.api.admin_token;
  if (!token) {
    const path = join(config.dataDir, 'admin-token');
    try {
      token = readFileSync(path, 'utf8').trim();
    } catch {
      throw new Error(
        `no admin token: set MAILYARD_API_ADMIN_TOKEN or api.admin_token, or start the server once (${path})`,
      );
    }
  }
  return { base: base.replace(/\/+$/, ''), token };
}

async function call(
  target: { base: string; token: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${target.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new Error(`cannot reach the admin API at ${target.base} (is the server running?): ${(e as Error).message}`);
  }
  const json = (await res.json().catch(() => null)) as { message?: string } | null;
  if (!res.ok) throw new Error(json?.message ?? `${method} ${path}: HTTP ${res.status}`);
  return json;
}

export async function runDkim(
  io: CliIo,
  values: Record<string, string | boolean | undefined>,
  positionals: string[],
): Promise<number> {
  const [sub, domain, selector] = positionals;
  const needsSelector = sub === 'stage' || sub === 'activate' || sub === 'retire';
  if (!sub || !['list', 'stage', 'activate', 'retire'].includes(sub) || !domain || (needsSelector && !selector)) {
    io.err(
      `mailyard dkim: expected list|stage|activate|retire, a domain and (except for list) a selector\nusage: ${DKIM_USAGE}\n`,
    );
    return EXIT.usage;
  }
  if (sub === 'list' && selector) {
    io.err(`mailyard dkim: list takes no selector\nusage: ${DKIM_USAGE}\n`);
    return EXIT.usage;
  }
  let size: number | undefined;
  if (values.size !== undefined) {
    size = Number(values.size);
    if (!Number.isInteger(size)) {
      io.err(`mailyard dkim: --size must be a whole number\nusage: ${DKIM_USAGE}\n`);
      return EXIT.usage;
    }
  }
  if ((values.type !== undefined || size !== undefined) && sub !== 'stage') {
    io.err(`mailyard dkim: --type and --size are for stage only\nusage: ${DKIM_USAGE}\n`);
    return EXIT.usage;
  }
  const target = apiTarget(io, values);
  const base = `/api/domains/${encodeURIComponent(domain)}/dkim`;
  switch (sub) {
    case 'list': {
      const keys = (await call(target, 'GET', base)) as DkimKeyJson[];
      if (keys.length === 0) io.out(`${domain} has no DKIM keys\n`);
      for (const k of keys) {
        const made = k.created_at ? `, created ${k.created_at}` : '';
        io.out(`${k.status.padEnd(8)} ${k.selector} (${k.key_type} ${k.key_size}${made})\n  ${zoneLine(k)}\n`);
      }
      return EXIT.ok;
    }
    case 'stage': {
      const body = { selector, ...(values.type ? { key_type: values.type } : {}), ...(size ? { key_size: size } : {}) };
      const k = (await call(target, 'POST', base, body)) as DkimKeyJson;
      io.out(
        `staged ${k.selector} (${k.key_type} ${k.key_size}) for ${domain}. Publish this record, wait for it to be visible, then run\n` +
          `"mailyard dkim activate ${domain} ${k.selector}":\n${zoneLine(k)}\n`,
      );
      return EXIT.ok;
    }
    case 'activate': {
      const k = (await call(target, 'POST', `${base}/${encodeURIComponent(selector!)}/activate`)) as DkimKeyJson;
      io.out(
        `${k.selector} now signs mail for ${domain}; the previous key is retiring and must stay published until mail signed with it has been delivered (a few days), then run "mailyard dkim retire ${domain} SELECTOR".\n${zoneLine(k)}\n`,
      );
      return EXIT.ok;
    }
    default: {
      const k = (await call(target, 'DELETE', `${base}/${encodeURIComponent(selector!)}`)) as DkimKeyJson;
      io.out(`retired ${k.selector} (${k.status}) of ${domain}; its DNS record can be removed:\n${zoneLine(k)}\n`);
      return EXIT.ok;
    }
  }
}
