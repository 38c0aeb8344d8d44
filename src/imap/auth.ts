/**
 * IMAP authentication (RFC 3501 6.2.2-6.2.3, RFC 4616 PLAIN). Rules: the login name is the full address,
 * matched case-insensitively; a disabled or suspended user, or a user of a disabled domain, cannot log in (the
 * client is told the same as for a wrong password, the log says why); the user's quota is read live (domain
 * default when the user has none) so an admin change applies to the next command.
 */
import { verifyPassword } from '../auth/passwords.ts';
import { UserMaildir } from '../store/mailboxFiles.ts';
import type { ImapDeps } from './context.ts';

export interface AuthUser {
  id: number;
  email: string;
  domain: string;
  files: UserMaildir;
}

export async function checkLogin(
  deps: ImapDeps,
  username: string,
  password: string,
): Promise<{ user: AuthUser } | { error: string }> {
  const user = deps.repos.users.get(username);
  // Verify even for unknown users (same timing as a wrong password).
  const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
  if (!user || !ok) return { error: 'invalid credentials' };
  if (user.status !== 'active') return { error: `user is ${user.status}` };
  const domain = user.email.slice(user.email.lastIndexOf('@') + 1);
  const d = deps.repos.domains.get(domain);
  if (d?.status !== 'active') return { error: 'domain is disabled' };
  return {
    user: { id: user.id, email: user.email, domain, files: new UserMaildir(deps.config.storage.mail_dir, user.email) },
  };
}

/** Quota in bytes (0 = unlimited) and usage, read now. */
export function quotaOf(deps: ImapDeps, user: AuthUser): { limit: number; used: number } {
  const u = deps.repos.users.get(user.email);
  if (!u) return { limit: 0, used: 0 };
  const limit = u.quota ?? deps.repos.domains.get(user.domain)?.default_quota ?? 0;
  return { limit, used: u.used_bytes };
}

const DUMMY_HASH = '$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
