/**
 * One certificate and its key, read from files and checked. Rules: a pair is usable only if both files are
 * readable PEM, the key matches the certificate, and the certificate has not expired; otherwise TlsLoadError names
 * the file at fault (the certificate's, or the key's when it is unreadable or does not match).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface TlsMaterial {
  key: string;
  cert: string;
  source: 'file' | 'self-signed';
  subject: string;
  validTo: string;
}

export interface CertFiles {
  cert_file: string;
  key_file: string;
}

export const MIN_TLS_VERSION = 'TLSv1.2';

export class TlsLoadError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'TlsLoadError';
  }
}

/** Reads and checks one certificate/key pair from files. Throws TlsLoadError naming the file at fault. */
export function loadPair(files: CertFiles, now = Date.now()): TlsMaterial {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new TlsLoadError(file, `cannot read (${(e as NodeJS.ErrnoException).code})`);
    }
  };
  const cert = read(files.cert_file);
  const key = read(files.key_file);
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch (e) {
    throw new TlsLoadError(files.cert_file, `not a PEM certificate (${(e as Error).message})`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new TlsLoadError(files.key_file, `not a PEM private key (${(e as Error).message})`);
  }
  if (!x.checkPrivateKey(privateKey))
    throw new TlsLoadError(files.key_file, `the private key does not match the certificate in ${files.cert_file}`);
  if (new Date(x.validTo).getTime() <= now)
    throw new TlsLoadError(files.cert_file, `the certificate expired on ${x.validTo}`);
  return { key, cert, source: 'file', subject: x.subject, validTo: x.validTo };
}
