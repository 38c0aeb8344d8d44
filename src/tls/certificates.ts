/**
 * The server's TLS material at start. Rules: configured tls.cert_file/key_file win (an unreadable, mismatched or
 * expired pair is a config error naming the key and the file: store.ts's loadPair); otherwise a self-signed certificate for server.hostname is created once under
 * <data>/tls/ (mode 0600 key) and reused until it expires or the host name changes.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/load.ts';
import { ConfigError } from '../config/load.ts';
import { loadPair, TlsLoadError, type TlsMaterial } from './pair.ts';
import { createSelfSigned } from './selfsigned.ts';

export type { TlsMaterial };

function describe(key: string, cert: string, source: TlsMaterial['source']): TlsMaterial {
  const x = new X509Certificate(cert);
  if (!x.checkPrivateKey(createPrivateKey(key))) throw new Error('the private key does not match the certificate');
  return { key, cert, source, subject: x.subject, validTo: x.validTo };
}

export async function loadTls(config: Config): Promise<TlsMaterial> {
  const { cert_file, key_file } = config.tls;
  if (cert_file && key_file) return loadConfigured({ cert_file, key_file }, 'tls', config.source);
  const dir = join(config.dataDir, 'tls');
  const certPath = join(dir, 'selfsigned.crt');
  const keyPath = join(dir, 'selfsigned.key');
  try {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    const x = new X509Certificate(cert);
    const fresh = new Date(x.validTo).getTime() > Date.now() + 7 * 86_400_000;
    if (fresh && x.checkHost(config.server.hostname) !== undefined) return describe(key, cert, 'self-signed');
  } catch {
    // missing or unreadable: create a new one below
  }
  const { key, cert } = await createSelfSigned(config.server.hostname);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, key, { mode: 0o600 });
  writeFileSync(certPath, cert, { mode: 0o644 });
  return describe(key, cert, 'self-signed');
}

/**
 * A configured pair at start (`key` is where it is configured: "tls" or "tls.certificates.N"): a TlsLoadError
 * becomes a config error naming the key and the file.
 */
export function loadConfigured(files: { cert_file: string; key_file: string }, key: string, source: string) {
  try {
    return loadPair(files);
  } catch (e) {
    if (!(e instanceof TlsLoadError)) throw e;
    const which = e.file === files.key_file ? 'key_file' : 'cert_file';
    throw new ConfigError(source, [`key "${key}.${which}": ${e.message}`]);
  }
}
