/**
 * The server secret: 32 random bytes from which per-purpose keys are derived (SRS hashes, later TOTP secret
 * encryption), so one file holds every such key and they survive restarts. Rules: kept as 64 hex digits (and a
 * newline) in `<dataDir>/server-secret`; created on first use with mode 0600 (data folder 0700 if created) by
 * writing a temporary file and moving it into place atomically without overwriting (a hard link, so two processes
 * starting at once agree on one secret; rename where links are not supported); an existing file readable or
 * writable by group or others is refused with an Error naming the file and its mode (as ssh refuses keys), and
 * one that is not 64 hex digits with an Error naming the file. Keys come from HKDF-SHA256 (RFC 5869, no salt) with
 * info `mailyard:<purpose>`: different purposes give independent keys.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export const SERVER_SECRET_FILE = 'server-secret';
const SECRET_BYTES = 32;

/** Reads an existing secret file, or undefined when there is none; throws on bad permissions or contents. */
function read(path: string): Buffer | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (mode & 0o077)
    throw new Error(
      `${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}: the server secret must not be accessible by group or others (chmod 600 ${path})`,
    );
  const text = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error(`${path} is malformed: expected 64 hexadecimal digits`);
  return Buffer.from(text, 'hex');
}

/** The server secret of `dataDir`, created on first use (see the rules above). */
export function loadServerSecret(dataDir: string): Buffer {
  const path = join(dataDir, SERVER_SECRET_FILE);
  const existing = read(path);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(SECRET_BYTES);
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${secret.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      // Another process created it meanwhile: its secret is the one.
      unlinkSync(tmp);
      return read(path)!;
    }
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') {
      unlinkSync(tmp);
      throw e;
    }
    renameSync(tmp, path);
    return secret;
  }
  unlinkSync(tmp);
  return secret;
}

/** A `length`-byte key for `purpose` (e.g. 'srs', 'totp'): HKDF-SHA256 with info `mailyard:<purpose>`. */
export function deriveKey(secret: Buffer, purpose: string, length = 32): Buffer {
  if (!purpose) throw new Error('deriveKey needs a purpose');
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `mailyard:${purpose}`, length));
}
