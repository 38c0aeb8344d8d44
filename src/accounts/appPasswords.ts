/**
 * App passwords of a user: create (the clear password is returned once and never stored), list (never the secret),
 * revoke (effective at the next login: a session already logged in stays). Rules: a password is 16 lowercase
 * letters from node:crypto's CSPRNG (rejection-free: randomInt), shown as four groups of four separated by
 * spaces; login accepts it with or without the spaces (login.ts strips them); it is hashed with
 * auth/passwords.ts; the name is 1-64 characters; scopes are a non-empty subset of imap, smtp; every change is
 * audited (never with the secret).
 */
import { randomInt } from 'node:crypto';
import { canonicalAppPassword } from '../auth/login.ts';
import { hashPassword } from '../auth/passwords.ts';
import type { AppPasswordInfo } from '../repos/appPasswords.ts';
import { type Issue, ValidationError } from '../repos/errors.ts';
import type { Repos } from '../repos/index.ts';
import { APP_PASSWORD_SCOPES, type AppPasswordScope } from '../repos/rows.ts';

export const APP_PASSWORD_NAME_MAX = 64;

/** A fresh app password: "abcd efgh ijkl mnop" (16 letters, ~75 bits). */
export function generateAppPassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let s = '';
    for (let i = 0; i < 4; i++) s += String.fromCharCode(97 + randomInt(26));
    groups.push(s);
  }
  return groups.join(' ');
}

export function createAppPasswordService(repos: Repos) {
  return {
    async create(
      actor: string,
      email: string,
      name: string,
      scopes: string[],
    ): Promise<AppPasswordInfo & { password: string }> {
      const issues: Issue[] = [];
      const trimmed = name.trim();
      if (!trimmed || trimmed.length > APP_PASSWORD_NAME_MAX)
        issues.push({ path: ['name'], message: `must be 1 to ${APP_PASSWORD_NAME_MAX} characters` });
      const wanted = [...new Set(scopes.map((s) => s.toLowerCase()))];
      if (wanted.length === 0 || wanted.some((s) => !(APP_PASSWORD_SCOPES as readonly string[]).includes(s)))
        issues.push({ path: ['scopes'], message: `must be one or more of ${APP_PASSWORD_SCOPES.join(', ')}` });
      if (issues.length) throw new ValidationError(issues);
      const user = repos.users.require(email);
      const password = generateAppPassword();
      const hash = await hashPassword(canonicalAppPassword(password));
      const row = repos.appPasswords.create(user.id, trimmed, wanted as AppPasswordScope[], hash);
      repos.audit.record(actor, 'app_password.create', 'user', user.email, {
        id: row.id,
        name: row.name,
        scopes: row.scopes,
      });
      return { ...row, password };
    },

    list(email: string): AppPasswordInfo[] {
      return repos.appPasswords.list(repos.users.require(email).id);
    },

    revoke(actor: string, email: string, id: number): AppPasswordInfo {
      const user = repos.users.require(email);
      const row = repos.appPasswords.revoke(user.id, id);
      repos.audit.record(actor, 'app_password.revoke', 'user', user.email, { id: row.id, name: row.name });
      return row;
    },
  };
}

export type AppPasswordService = ReturnType<typeof createAppPasswordService>;
