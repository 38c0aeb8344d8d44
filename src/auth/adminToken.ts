/**
 * The admin API token. Rules: api.admin_token (or MAILYARD_API_ADMIN_TOKEN) wins; otherwise the token stored in
 * <data>/admin-token (mode 0600) is used; on the very first start one is generated, stored and reported once
 * (`generated: true`) so the caller can print it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/load.ts';

export interface AdminToken {
  token: string;
  source: 'config' | 'file';
  path?: string;
  generated: boolean;
}

export function resolveAdminToken(config: Config): AdminToken {
  if (config.api.admin_token) return { token: config.api.admin_token, source: 'config', generated: false };
  const path = join(config.dataDir, 'admin-token');
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token) return { token, source: 'file', path, generated: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = randomBytes(32).toString('base64url');
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return { token, source: 'file', path, generated: true };
}
