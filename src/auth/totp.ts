/**
 * TOTP (RFC 6238) primitives over otplib v13, and the protection of what is stored for it. Rules: codes are 6
 * digits, SHA-1, 30-second steps (what authenticator apps expect); a code is accepted up to one step before or
 * after the current one, and only for a step later than `afterStep` (replay protection: the caller stores the
 * step returned). Secrets are base32 (20 random bytes) and stored only encrypted: AES-256-GCM under the key the
 * caller derives from the server secret (deriveKey(secret, 'totp')), as base64 of iv (12 bytes) | tag (16) |
 * ciphertext; decrypting with another key throws. Recovery codes are 10 random characters from 31 unambiguous
 * letters and digits, shown as `xxxx-xxxx-xx` (about 49 bits), stored as `sha256$<salt>$<hash>` with a per-code salt; matching
 * ignores case, spaces and dashes and compares in constant time.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { generate, generateSecret, generateURI, verify } from 'otplib';

export const TOTP_PERIOD = 30;
/** Steps of tolerance either side of the current one. */
export const TOTP_WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A fresh base32 TOTP secret (20 random bytes). */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** The otpauth:// URI an authenticator app scans. */
export function totpUri(secret: string, issuer: string, label: string): string {
  return generateURI({ issuer, label, secret, period: TOTP_PERIOD });
}

/** The time step of a moment (milliseconds since the epoch). */
export function timeStepAt(ms: number): number {
  return Math.floor(ms / 1000 / TOTP_PERIOD);
}

/** The code for the moment `ms` (milliseconds since the epoch). */
export function totpCode(secret: string, ms: number): Promise<string> {
  return generate({ secret, epoch: Math.floor(ms / 1000), period: TOTP_PERIOD });
}

/**
 * Checks `token` at the moment `ms`: the time step it belongs to when it is valid (within TOTP_WINDOW steps and
 * later than `afterStep`), else null.
 */
export async function verifyTotp(
  secret: string,
  token: string,
  ms: number,
  afterStep?: number | null,
): Promise<number | null> {
  const t = token.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(t)) return null;
  const r = await verify({
    secret,
    token: t,
    epoch: Math.floor(ms / 1000),
    period: TOTP_PERIOD,
    epochTolerance: TOTP_WINDOW * TOTP_PERIOD,
    ...(afterStep !== undefined && afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  if (!r.valid) return null;
  const step = timeStepAt(ms) + r.delta;
  return afterStep !== undefined && afterStep !== null && step <= afterStep ? null : step;
}

/** Encrypts a secret for storage (see the module rules). */
export function encryptSecret(key: Buffer, plain: string): string {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
}

/** Decrypts what encryptSecret stored; throws when the key is wrong or the value was altered. */
export function decryptSecret(key: Buffer, stored: string): string {
  const raw = Buffer.from(stored, 'base64');
  if (raw.length <= IV_BYTES + TAG_BYTES) throw new Error('malformed encrypted TOTP secret');
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  d.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([d.update(raw.subarray(IV_BYTES + TAG_BYTES)), d.final()]).toString('utf8');
}

// Crockford-like: no 0/o, 1/l/i confusion.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Fresh recovery codes, as shown to the user once. */
export function newRecoveryCodes(n = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: n }, () => {
    let s = '';
    for (let i = 0; i < 10; i++) s += ALPHABET[randomInt(ALPHABET.length)];
    return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
  });
}

const normalise = (code: string) => code.toLowerCase().replace(/[\s-]+/g, '');

const digest = (salt: Buffer, code: string) =>
  createHash('sha256').update(salt).update(normalise(code), 'utf8').digest();

/** The stored form of a recovery code. */
export function hashRecoveryCode(code: string): string {
  const salt = randomBytes(16);
  return `sha256$${salt.toString('base64')}$${digest(salt, code).toString('base64')}`;
}

/** Whether `code` is the one behind `stored` (constant-time; unknown formats never match). */
export function recoveryCodeMatches(code: string, stored: string): boolean {
  const m = /^sha256\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const expected = Buffer.from(m[2]!, 'base64');
  const got = digest(Buffer.from(m[1]!, 'base64'), code);
  return got.length === expected.length && timingSafeEqual(got, expected);
}
