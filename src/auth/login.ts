/**
 * Password login, shared by every protocol that authenticates users (IMAP LOGIN/AUTHENTICATE, SMTP AUTH on
 * submission). Rules:
 * - The login name is the full address, matched case-insensitively. The password is the account password OR an
 *   app password of the user whose scopes include the protocol (`ctx.protocol`); an app password is compared
 *   without spaces, in lower case.
 * - No timing oracle: the account password (a dummy hash for an unknown user) and every app password of the user
 *   (at most MAX_APP_PASSWORDS, repos/appPasswords.ts) are all verified, in parallel, on every attempt, whichever
 *   matches; scopes and the outcome are decided afterwards.
 * - When the user's domain has auth_totp_enforced or the user has totp_enabled, only an app password logs in: the
 *   right account password is refused with APP_PASSWORD_REQUIRED as the client's text (`reply`), and counts as a
 *   failure.
 * - A disabled or suspended user, or a user of a domain that is not active, cannot log in: the client is told the
 *   same as for a wrong password; `error` says why (for the caller's log line, never for the client).
 * - Brute force (bruteForce.ts, when `deps.guard` is given): the settings are the user's domain's (the `_default`
 *   template's for an unknown user); a blocked IP or account gets `error: 'blocked'` after the same verification
 *   work as any attempt, so the same answer in the same time as a wrong password; wrong passwords (and the
 *   refused account password above) count as failures; an allow-listed IP is never counted.
 * - The API (`protocol: 'api'`, the GraphQL `login`): app passwords never log in there (they are for IMAP and SMTP);
 *   when the user has TOTP on, the account password must come with a code (`ctx.totpCode`, checked by `deps.secondFactor`
 *   with its replay protection, or a recovery code): none is `error: 'totp code missing'` with TOTP_REQUIRED as the
 *   reply (not counted: the client asks for the code and tries again), a wrong one counts as a failure. A user of
 *   a TOTP-enforcing domain who has not enrolled logs in with `totpSetupRequired` (principal.ts says what that
 *   allows).
 * - Every failure and refusal is published as an `auth.failed` event (when `deps.bus` is given).
 * - On success: an app password's last_used_at/last_used_ip are recorded; an account password hashed with weaker
 *   scrypt parameters than the current ones is rehashed (written through the users repository).
 * - The callers delay every failure by failureDelayMs(failures in the session) before answering.
 */
import type { TotpService } from '../accounts/totp.ts';
import type { EventBus } from '../events/bus.ts';
import type { AppPasswordsRepo } from '../repos/appPasswords.ts';
import type { DomainsRepo } from '../repos/domains.ts';
import type { UsersRepo } from '../repos/users.ts';
import type { BruteForceGuard } from './bruteForce.ts';
import { hashPassword, needsRehash, verifyPassword } from './passwords.ts';

export interface AuthUser {
  id: number;
  email: string;
  domain: string;
}

/** The lookups a login needs (the repositories) and, optionally, the brute-force guard. */
export interface LoginDeps {
  users: Pick<UsersRepo, 'get' | 'setPasswordHash'>;
  domains: Pick<DomainsRepo, 'get' | 'template'>;
  appPasswords: Pick<AppPasswordsRepo, 'forLogin' | 'markUsed'>;
  guard?: BruteForceGuard;
  /** Checks a TOTP or recovery code (the API's login). */
  secondFactor?: Pick<TotpService, 'verify'>;
  bus?: EventBus;
  /** Where a failed rehash is reported (the login still succeeds). */
  warn?: (msg: string, detail: Record<string, unknown>) => void;
}

export interface LoginContext {
  protocol: 'imap' | 'smtp' | 'api';
  ip: string;
  /** The API's second factor (a TOTP code or a recovery code). */
  totpCode?: string | null;
}

export type LoginResult =
  | { user: AuthUser; via: 'password' | 'app_password'; totpSetupRequired?: boolean }
  | {
      /** Why, for the log (`blocked` for a blocked IP or account). */
      error: string;
      /** The client's text when it is not the generic one. */
      reply?: string;
    };

/** The client's text when only an app password may log in. */
export const APP_PASSWORD_REQUIRED =
  'Two-factor authentication is on for this account: log in with an app password, not the account password';

/** The API client's text when the account has TOTP on and no code came with the password. */
export const TOTP_REQUIRED = 'A TOTP code (or a recovery code) is required for this account';

const FAILURE_DELAY_MS = 300;
/** How long a front end waits before answering the n-th failure of a session (capped at the third's). */
export const failureDelayMs = (failures: number) => FAILURE_DELAY_MS * Math.min(Math.max(failures, 1), 3);

const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1);
/** The form an app password is hashed and compared in: without spaces, lower case. */
export const canonicalAppPassword = (p: string) => p.replace(/\s+/g, '').toLowerCase();

export async function checkLogin(
  deps: LoginDeps,
  username: string,
  password: string,
  ctx: LoginContext,
): Promise<LoginResult> {
  const user = deps.users.get(username);
  const domain = user ? deps.domains.get(domainOf(user.email)) : undefined;
  const rules = domain ?? deps.domains.template();
  const verdict = deps.guard ? deps.guard.check(ctx.ip, user?.email, rules) : 'ok';

  const apps = user ? deps.appPasswords.forLogin(user.id) : [];
  const appCandidate = canonicalAppPassword(password);
  // Every hash is verified, whatever matches (see the rules).
  const [accountOk, ...appOk] = await Promise.all([
    verifyPassword(password, user?.password_hash ?? DUMMY_HASH),
    ...apps.map((a) => verifyPassword(appCandidate, a.password_hash)),
  ]);
  const refused = (error: string, reply?: string): LoginResult => {
    deps.bus?.publish('auth.failed', {
      protocol: ctx.protocol,
      ip: ctx.ip,
      account: user?.email ?? username.trim().toLowerCase().slice(0, 320),
      reason: error,
    });
    return reply ? { error, reply } : { error };
  };
  if (verdict === 'blocked') return refused('blocked');
  const fail = async (error: string, reply?: string): Promise<LoginResult> => {
    if (verdict === 'ok') await deps.guard?.failed(ctx.ip, user?.email, rules);
    return refused(error, reply);
  };
  if (!user) return fail('unknown user');
  const app = apps.find((a, i) => appOk[i] && (a.scopes as string[]).includes(ctx.protocol));
  if (!accountOk && !app) {
    const other = apps.some((_a, i) => appOk[i]);
    return fail(other ? `app password not valid for ${ctx.protocol}` : 'invalid credentials');
  }
  if (user.status !== 'active') return refused(`user is ${user.status}`);
  if (domain?.status !== 'active') return refused('domain is disabled');
  let totpSetupRequired = false;
  if (ctx.protocol === 'api') {
    if (user.totp_enabled) {
      const code = ctx.totpCode?.trim();
      if (!code) return refused('totp code missing', TOTP_REQUIRED);
      if (!(await deps.secondFactor?.verify(user.email, code))) return fail('wrong totp code');
    } else totpSetupRequired = domain.auth_totp_enforced;
  } else if (!app && (domain.auth_totp_enforced || user.totp_enabled))
    return fail('app password required', APP_PASSWORD_REQUIRED);

  if (app) deps.appPasswords.markUsed(app.id, ctx.ip);
  else if (needsRehash(user.password_hash)) {
    try {
      deps.users.setPasswordHash(user.email, await hashPassword(password));
    } catch (err) {
      deps.warn?.('password rehash failed', { err, user: user.email });
    }
  }
  return {
    user: { id: user.id, email: user.email, domain: domainOf(user.email) },
    via: app ? 'app_password' : 'password',
    ...(totpSetupRequired ? { totpSetupRequired } : {}),
  };
}

const DUMMY_HASH = '$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
