/**
 * Password login, shared by every protocol that authenticates users (IMAP LOGIN/AUTHENTICATE, SMTP AUTH on
 * submission). Rules: the login name is the full address, matched case-insensitively; the password is verified
 * even for an unknown user (same timing as a wrong password); a disabled or suspended user, or a user of a domain
 * that is not active, cannot log in: the client is told the same as for a wrong password, `error` says why (for
 * the caller's log line, never for the client).
 * This is the seam where app passwords and TOTP (a later issue) plug in: `ctx` says which protocol asks and from
 * where, so a per-protocol app password or a second factor can be required here without touching the front ends.
 */
import type { DomainsRepo } from '../repos/domains.ts';
import type { UsersRepo } from '../repos/users.ts';
import { verifyPassword } from './passwords.ts';

export interface AuthUser {
  id: number;
  email: string;
  domain: string;
}

/** The lookups a login needs (the repositories). */
export interface LoginDeps {
  users: Pick<UsersRepo, 'get'>;
  domains: Pick<DomainsRepo, 'get'>;
}

export interface LoginContext {
  protocol: 'imap' | 'smtp';
  ip: string;
}

export async function checkLogin(
  deps: LoginDeps,
  username: string,
  password: string,
  _ctx: LoginContext,
): Promise<{ user: AuthUser } | { error: string }> {
  const user = deps.users.get(username);
  // Verify even for unknown users (same timing as a wrong password).
  const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
  if (!user) return { error: 'unknown user' };
  if (!ok) return { error: 'invalid credentials' };
  if (user.status !== 'active') return { error: `user is ${user.status}` };
  const domain = user.email.slice(user.email.lastIndexOf('@') + 1);
  const d = deps.domains.get(domain);
  if (d?.status !== 'active') return { error: 'domain is disabled' };
  return { user: { id: user.id, email: user.email, domain } };
}

const DUMMY_HASH = '$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
