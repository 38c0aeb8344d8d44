/**
 * Password hashing with scrypt (RFC 7914) from node:crypto. Stored form:
 * `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt base64>$<hash base64>`. Rules: hashing and verifying are async (they
 * run on libuv's pool, never blocking the event loop); comparison is constant-time; unknown formats never verify;
 * needsRehash() says whether a stored hash uses weaker parameters than the current ones (login.ts rehashes then).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

const LN = 15;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scrypt(password: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** ln;
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFC'), salt, KEYLEN, { N, r, p, maxmem: 256 * N * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, LN, R, P);
  return `$scrypt$ln=${LN},r=${R},p=${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await scrypt(password, Buffer.from(m[4]!, 'base64'), ln, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Whether `stored` is a scrypt hash with a smaller cost (ln, r or p) than hashPassword() uses now. */
export function needsRehash(stored: string): boolean {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$/.exec(stored);
  if (!m) return false;
  return Number(m[1]) < LN || Number(m[2]) < R || Number(m[3]) < P;
}
