/**
 * Generates a self-signed X.509 v3 certificate (ECDSA P-256, SHA-256) for the server's host name, so STARTTLS and
 * implicit TLS work before any real certificate exists. RFC 5280 with RFC 5758 for the algorithm; SAN carries the
 * host name (or the IP when the name is one); the certificate is a leaf (CA:FALSE) for serverAuth.
 * Why P-256 and not RSA 2048: the key is made on the first start, and RSA 2048 generation took 160-520 ms here
 * (more on a loaded machine) against ~1 ms; every TLS client and MTA of the last decade does ECDHE-ECDSA.
 */
import { generateKeyPair as genCb, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { bits, bool, explicit, implicit, int, octets, oid, seq, set, time, utf8 } from './der.ts';

const generateKeyPair = promisify(genCb);

// ecdsa-with-SHA256: the parameters are absent (RFC 5758 section 3.2).
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

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
  const { privateKey, publicKey } = await generateKeyPair('ec', { namedCurve: 'P-256' });
  const now = new Date();
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + days * 86_400_000);
  const san = isIP(hostname) ? implicit(7, ipBytes(hostname)) : implicit(2, Buffer.from(hostname, 'ascii'));
  const extensions = explicit(
    3,
    seq(
      seq(oid('2.5.29.19'), bool(true), octets(seq())), // basicConstraints: CA:FALSE
      seq(oid('2.5.29.15'), bool(true), octets(bits(Buffer.from([0x80]), 7))), // keyUsage: digitalSignature
      seq(oid('2.5.29.37'), octets(seq(oid('1.3.6.1.5.5.7.3.1')))), // extKeyUsage: serverAuth
      seq(oid('2.5.29.17'), octets(seq(san))), // subjectAltName
    ),
  );
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = seq(
    explicit(0, int(2)),
    int(serial),
    ECDSA_SHA256,
    name(hostname),
    seq(time(notBefore), time(notAfter)),
    name(hostname),
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = sign('sha256', tbs, privateKey); // DER Ecdsa-Sig-Value, as X.509 wants it
  const cert = seq(tbs, ECDSA_SHA256, bits(signature));
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: pem('CERTIFICATE', cert),
  };
}
