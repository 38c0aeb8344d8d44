/**
 * IMAP authentication (RFC 3501 6.2.2-6.2.3, RFC 4616 PLAIN). Rules: the login name is the full address,
 * matched case-insensitively; a disabled or suspended user, or a user of a disabled domain, cannot log in (the
 * client is told the same as for a wrong password, the log says why).
 */
import { verifyPassword } from '../auth/passwords.ts';
import type { ImapDeps } from './context.ts';

export interface AuthUser {
  id: number;
  email: string;
  domain: string;
}

export async function checkLogin(
  deps: ImapDeps,
  username: string,
  password: string,
): Promise<{ user: AuthUser } | { error: string }> {
  const user = deps.logins.users.get(username);
  // Verify even for unknown users (same timing as a wrong password).
  const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
  if (!user || !ok) return { error: 'invalid credentials' };
  if (user.status !== 'active') return { error: `user is ${user.status}` };
  const domain = user.email.slice(user.email.lastIndexOf('@') + 1);
  const d = deps.logins.domains.get(domain);
  if (d?.status !== 'active') return { error: 'domain is disabled' };
  return { user: { id: user.id, email: user.email, domain } };
}

const DUMMY_HASH = '$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
