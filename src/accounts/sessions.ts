/**
 * API login sessions and API tokens. Rules:
 * - login(email, password, totpCode) goes through auth/login.ts (protocol `api`: brute-force guard, `auth.failed`
 *   events, TOTP with replay protection, disabled users refused) and answers every failure with the same
 *   AuthenticationError text after the same delay, except the one that asks for a missing TOTP code; a session
 *   lasts api.session_hours; the token is returned once and stored hashed.
 * - logout ends the caller's own session; a user's sessions can be listed and ended by the user or whoever
 *   manages the user (principal.ts).
 * - API tokens: named (1-64 characters), scoped (principal.ts), optional expiry in the future; a caller can only
 *   create a token whose scopes it holds itself, and only sees or revokes tokens whose scopes it holds (others
 *   are "not found", so nothing about them leaks). The clear token is returned once.
 * - Every change is audited (never with a token); a failed login is the log line `authentication failed`.
 */
import { checkLogin, failureDelayMs, type LoginDeps } from '../auth/login.ts';
import {
  canActAsUser,
  coversScopes,
  type Principal,
  parseScope,
  requireAdmin,
  scopeString,
  validateScopes,
} from '../auth/principal.ts';
import { LOG_EVENTS, type Logger } from '../log/logger.ts';
import {
  AuthenticationError,
  ConflictError,
  ForbiddenError,
  type Issue,
  NotFoundError,
  ValidationError,
} from '../repos/errors.ts';
import type { Repos } from '../repos/index.ts';
import type { ApiTokenRow, SessionRow, UserRow } from '../repos/rows.ts';

export const TOKEN_NAME_MAX = 64;
/** The answer to every failed login but a missing TOTP code. */
export const LOGIN_FAILED = 'invalid email, password or TOTP code';

export interface SessionServiceOptions {
  repos: Repos;
  /** Where a failed login's `authentication failed` line goes (the guide's monitoring greps for it). */
  log?: Pick<Logger, 'info'>;
  logins: LoginDeps;
  sessionHours: number;
  now?: () => number;
  /** Waits before a failed login is answered (tests pass 0). */
  failureDelayMs?: number;
}

export interface LoginOutcome {
  token: string;
  session: SessionRow;
  user: UserRow;
  totpSetupRequired: boolean;
}

export function createSessionService(opts: SessionServiceOptions) {
  const { repos } = opts;
  const now = opts.now ?? Date.now;
  const delay = opts.failureDelayMs ?? failureDelayMs(1);
  const tokenScopes = (row: ApiTokenRow) => row.scopes.map(parseScope).filter((s) => s !== null);

  return {
    async login(
      email: string,
      password: string,
      totpCode: string | null | undefined,
      meta: { ip: string; userAgent?: string | null },
    ): Promise<LoginOutcome> {
      const r = await checkLogin(opts.logins, email, password, { protocol: 'api', ip: meta.ip, totpCode });
      if ('error' in r) {
        opts.log?.info({ proto: 'api', ip: meta.ip, username: email, reason: r.error }, LOG_EVENTS.authFailed);
        if (delay) await new Promise((res) => setTimeout(res, delay));
        throw new AuthenticationError(r.error === 'totp code missing' && r.reply ? r.reply : LOGIN_FAILED);
      }
      const user = repos.users.require(r.user.email);
      const { token, row } = repos.sessions.create(user.id, now() + opts.sessionHours * 3_600_000, {
        ip: meta.ip,
        userAgent: meta.userAgent,
      });
      repos.users.markLogin(user.id, now());
      repos.audit.record(user.email, 'session.login', 'user', user.email, { session: row.id, ip: meta.ip });
      return { token, session: row, user, totpSetupRequired: r.totpSetupRequired === true };
    },

    /** Ends the caller's own session; false when the caller is not a session. */
    logout(p: Principal): boolean {
      if (p.sessionId === null) return false;
      const ended = repos.sessions.revoke(p.sessionId, now());
      if (ended)
        repos.audit.record(p.actor, 'session.logout', 'user', p.user?.email ?? p.actor, { session: p.sessionId });
      return ended;
    },

    sessionsOf(p: Principal, email: string): SessionRow[] {
      if (!canActAsUser(p, email)) throw new ForbiddenError(`not allowed to act for "${email}"`);
      return repos.sessions.listForUser(repos.users.require(email).id, now());
    },

    revokeSession(p: Principal, id: number): SessionRow {
      const row = repos.sessions.get(id);
      const owner = row ? repos.users.byId(row.user_id) : undefined;
      if (!row || !owner || row.revoked_at !== null || !canActAsUser(p, owner.email))
        throw new NotFoundError('session', String(id));
      repos.sessions.revoke(id, now());
      repos.audit.record(p.actor, 'session.revoke', 'user', owner.email, { session: id });
      return repos.sessions.get(id)!;
    },

    createToken(
      p: Principal,
      name: string,
      scopes: string[],
      expiresAt?: number | null,
    ): { token: string; row: ApiTokenRow } {
      const issues: Issue[] = [];
      const trimmed = name.trim();
      if (!trimmed || trimmed.length > TOKEN_NAME_MAX)
        issues.push({ path: ['name'], message: `must be 1 to ${TOKEN_NAME_MAX} characters` });
      if (expiresAt !== null && expiresAt !== undefined && expiresAt <= now())
        issues.push({ path: ['expiresAt'], message: 'must be in the future' });
      let parsed: ReturnType<typeof validateScopes> = [];
      try {
        parsed = validateScopes(scopes);
      } catch (e) {
        issues.push({ path: ['scopes'], message: (e as Error).message });
      }
      if (issues.length) throw new ValidationError(issues);
      if (p.totpSetupRequired) throw new ForbiddenError('enrol TOTP before creating API tokens');
      if (!coversScopes(p, parsed))
        throw new ForbiddenError(`a token can only have scopes the caller holds (${p.scopes.join(', ') || 'none'})`);
      for (const s of parsed) {
        if (s.kind === 'domain') repos.domains.require(s.name);
        if (s.kind === 'user') repos.users.require(s.email);
      }
      const out = repos.apiTokens.create(trimmed, parsed.map(scopeString), expiresAt ?? null, p.actor);
      repos.audit.record(p.actor, 'api_token.create', 'api_token', trimmed, {
        id: out.row.id,
        scopes: out.row.scopes,
        expiresAt: out.row.expires_at,
      });
      return out;
    },

    /** The tokens the caller may see: those whose every scope it holds (an admin sees all). */
    tokens(p: Principal): ApiTokenRow[] {
      return repos.apiTokens.list().filter((t) => p.admin || coversScopes(p, tokenScopes(t)));
    },

    revokeToken(p: Principal, id: number): ApiTokenRow {
      const row = repos.apiTokens.get(id);
      if (!row || !(p.admin || coversScopes(p, tokenScopes(row)))) throw new NotFoundError('api token', String(id));
      if (row.revoked_at !== null) throw new ConflictError(`api token ${id} is already revoked`);
      repos.apiTokens.revoke(id, now());
      repos.audit.record(p.actor, 'api_token.revoke', 'api_token', row.name, { id });
      return repos.apiTokens.get(id)!;
    },

    /** Makes a user the administrator of exactly `domains` (admin only). */
    setAdminDomains(p: Principal, email: string, domains: string[]): string[] {
      requireAdmin(p);
      const user = repos.users.require(email);
      const before = repos.domainAdmins.domainsOf(user.id);
      const after = repos.domainAdmins.set(user.id, domains);
      repos.audit.record(p.actor, 'user.set_admin_domains', 'user', user.email, { before, after });
      return after;
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
