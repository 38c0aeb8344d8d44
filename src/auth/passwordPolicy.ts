/**
 * The password policy: what every password a user is given must satisfy (account creation, password changes,
 * administrators setting one). Rules: at least PASSWORD_MIN and at most PASSWORD_MAX characters (counted as
 * JavaScript string length); not the user's address or its local part (case-insensitive), and not containing
 * the local part when that is 4 characters or longer; not one of the ~200 most common passwords listed in
 * commonPasswords.txt beside this module (compared lower-cased). checkPassword returns null for a good password,
 * else one message that names the problem and can be shown to the user as is.
 */
import { readFileSync } from 'node:fs';

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 1024;

/** Local parts shorter than this are only refused as the whole password, not as a part of it. */
const CONTAINED_LOCAL_MIN = 4;

const COMMON: ReadonlySet<string> = new Set(
  readFileSync(new URL('./commonPasswords.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter((l) => l !== ''),
);

/** Whether `password` is on the built-in list of common passwords (case-insensitive). */
export function isCommonPassword(password: string): boolean {
  return COMMON.has(password.toLowerCase());
}

/** null when `password` is acceptable for the user `email`, else why it is not. */
export function checkPassword(password: string, { email }: { email: string }): string | null {
  if (password.length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  const lower = password.toLowerCase();
  const address = email.trim().toLowerCase();
  const at = address.lastIndexOf('@');
  const local = at > 0 ? address.slice(0, at) : address;
  if (lower === address || lower === local) return 'must not be the email address or its local part';
  if (local.length >= CONTAINED_LOCAL_MIN && lower.includes(local))
    return 'must not contain the local part of the email address';
  if (COMMON.has(lower)) return 'is one of the most commonly used passwords; choose another';
  return null;
}
