/**
 * DKIM key pairs (RFC 6376 3.6.1; Ed25519 per RFC 8463). Rules: generation is async (RSA 4096 takes a while and
 * must not block the event loop); the DNS record's p= is the base64 SubjectPublicKeyInfo for RSA and the raw
 * 32-byte public key for Ed25519.
 */
import { createPublicKey, generateKeyPair as genCb } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPair = promisify(genCb);

export type DkimKeyType = 'rsa' | 'ed25519';
export const RSA_KEY_SIZES = [1024, 2048, 4096] as const;

export interface DkimKeyPair {
  privateKey: string;
  publicKey: string;
}

export async function generateDkimKey(type: DkimKeyType, size: number): Promise<DkimKeyPair> {
  const pair =
    type === 'ed25519' ? await generateKeyPair('ed25519') : await generateKeyPair('rsa', { modulusLength: size });
  return {
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The p= value of the DKIM TXT record. */
export function dnsPublicKey(publicKeyPem: string, type: DkimKeyType): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  // Ed25519 SPKI is a 12-byte header followed by the 32-byte key.
  return (type === 'ed25519' ? der.subarray(der.length - 32) : der).toString('base64');
}

/** The TXT record to publish at <selector>._domainkey.<domain>. */
export function dkimDnsRecord(publicKeyPem: string, type: DkimKeyType): string {
  return `v=DKIM1; k=${type}; p=${dnsPublicKey(publicKeyPem, type)}`;
}
