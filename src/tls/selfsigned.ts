/**
 * Generates a self-signed X.509 v3 certificate (RSA 2048, SHA-256) for the server's host name, so STARTTLS and
 * implicit TLS work before any real certificate exists. RFC 5280; SAN carries the host name (and the IP when the
 * name is one); the certificate is a leaf (CA:FALSE) for serverAuth.
 */
import { generateKeyPair as genCb, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { bits, bool, explicit, implicit, int, nul, octets, oid, seq, set, time, utf8 } from './der.ts';

const generateKeyPair = promisify(genCb);

const SHA256_RSA = seq(oid('1.2.840.113549.1.1.11'), nul());

const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), utf8(cn))), set(seq(oid('2.5.4.10'), utf8('Mailyard'))));

const pem = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END ${label}-----\n`;

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.map((g) => g.padStart(4, '0')).join(''), 'hex');
}

export async function createSelfSigned(hostname: string, days = 825): Promise<{ key: string; cert: string }> {
  const { privateKey, publicKey } = await generateKeyPair('rsa', { modulusLength: 2048 });
  const now = new Date();
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + days * 86_400_000);
  const san = isIP(hostname) ? implicit(7, ipBytes(hostname)) : implicit(2, Buffer.from(hostname, 'ascii'));
  const extensions = explicit(
    3,
    seq(
      seq(oid('2.5.29.19'), bool(true), octets(seq())), // basicConstraints: CA:FALSE
      seq(oid('2.5.29.15'), bool(true), octets(bits(Buffer.from([0xa0])))), // keyUsage: digitalSignature, keyEncipherment
      seq(oid('2.5.29.37'), octets(seq(oid('1.3.6.1.5.5.7.3.1')))), // extKeyUsage: serverAuth
      seq(oid('2.5.29.17'), octets(seq(san))), // subjectAltName
    ),
  );
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = seq(
    explicit(0, int(2)),
    int(serial),
    SHA256_RSA,
    name(hostname),
    seq(time(notBefore), time(notAfter)),
    name(hostname),
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = sign('sha256', tbs, privateKey);
  const cert = seq(tbs, SHA256_RSA, bits(signature));
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: pem('CERTIFICATE', cert),
  };
}
