// Signatures and ARC seals made by an independent implementation, dkimpy (Debian's python3-dkim, which .ci/run
// installs), run by Debian's /usr/bin/python3 (a pyenv python3 on PATH would not see Debian's modules). Keys are
// generated per test with openssl; their DNS records come back as dnsmasq.conf lines. No network.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { unavailable } from './tools.ts';

const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import sys, dkim
mode, selector, domain, key = sys.argv[1:5]
msg = sys.stdin.buffer.read()
pk = open(key, 'rb').read()
if mode == 'sign':
    sig = dkim.sign(msg, selector.encode(), domain.encode(), pk, canonicalize=(b'relaxed', b'relaxed'),
                    include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
    sys.stdout.buffer.write(sig + msg)
else:
    headers = dkim.arc_sign(msg, selector.encode(), domain.encode(), pk, sys.argv[5].encode())
    if not headers:
        sys.exit('arc_sign made no headers')
    sys.stdout.buffer.write(b''.join(headers) + msg)
`;

/** True when dkimpy can be used; otherwise the test is skipped (or fails under CI). */
export function needDkimpy(t: TestContext): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import dkim'], { stdio: 'ignore' });
  if (r.status === 0) return true;
  unavailable(t, 'python3-dkim is not installed (apt-get install python3-dkim)');
  return false;
}

export interface DkimKey {
  selector: string;
  domain: string;
  /** PKCS#1 PEM file. */
  path: string;
  /** The key record as a dnsmasq line (split into strings of at most 255 octets). */
  record: string;
}

/** A fresh RSA key for selector._domainkey.domain (openssl). */
export function makeKey(dir: string, selector: string, domain: string, bits = 2048): DkimKey {
  const path = join(dir, `${selector}.${domain}.pem`);
  execFileSync('openssl', ['genrsa', '-traditional', '-out', path, String(bits)], { stdio: 'ignore' });
  const der = execFileSync('openssl', ['rsa', '-in', path, '-pubout', '-outform', 'DER'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const value = `v=DKIM1; k=rsa; p=${der.toString('base64')}`;
  const strings = value.match(/.{1,250}/g)!.map((s) => `"${s}"`);
  return { selector, domain, path, record: `txt-record=${selector}._domainkey.${domain},${strings.join(',')}` };
}

function run(args: string[], message: Buffer): Buffer {
  const r = spawnSync(PYTHON, ['-c', SCRIPT, ...args], { input: message, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`dkimpy ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

/** `message` with a DKIM-Signature (relaxed/relaxed, rsa-sha256) by `key` prepended. */
export const dkimSign = (message: Buffer | string, key: DkimKey): Buffer =>
  run(['sign', key.selector, key.domain, key.path], Buffer.from(message));

/**
 * `message` with an ARC set by `key` prepended; srvId is the sealer's authserv-id, whose Authentication-Results
 * the message must carry (it becomes the ARC-Authentication-Results).
 */
export const arcSeal = (message: Buffer | string, key: DkimKey, srvId: string): Buffer =>
  run(['seal', key.selector, key.domain, key.path, srvId], Buffer.from(message));

const VERIFY_SCRIPT = `
import sys, json, dkim
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    n = (name.decode() if isinstance(name, bytes) else name).rstrip('.').lower()
    return records.get(n, '').encode()
msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg)
count = sum(1 for (k, v) in d.headers if k.lower() == b'dkim-signature')
out = []
for i in range(count):
    try:
        out.append(bool(d.verify(idx=i, dnsfunc=dnsfunc)))
    except Exception as e:
        out.append(False)
print(json.dumps(out))
`;

/**
 * dkimpy's verdict on each DKIM-Signature of `message` (top first), with DNS answered from `records`
 * (TXT value by name, e.g. {"s1._domainkey.example.com": "v=DKIM1; k=rsa; p=..."}); no resolver is used.
 */
export function dkimpyVerify(message: Buffer | string, records: Record<string, string>): boolean[] {
  const r = spawnSync(PYTHON, ['-c', VERIFY_SCRIPT, JSON.stringify(records)], {
    input: Buffer.from(message),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`dkimpy verify failed: ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as boolean[];
}

/** A dnsmasq.conf line publishing a TXT record (split into strings of at most 250 octets). */
export const txtRecordLine = (name: string, value: string): string =>
  `txt-record=${name},${value
    .match(/.{1,250}/g)!
    .map((s) => `"${s}"`)
    .join(',')}`;

const ARC_VERIFY_SCRIPT = `
import sys, json, dkim
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    n = (name.decode() if isinstance(name, bytes) else name).rstrip('.').lower()
    return records.get(n, '').encode()
cv, results, comment = dkim.arc_verify(sys.stdin.buffer.read(), dnsfunc=dnsfunc)
print(json.dumps({"cv": cv.decode() if isinstance(cv, bytes) else cv, "comment": comment}))
`;

/** dkimpy's verdict on the ARC chain of `message` (cv: pass, fail or none), with DNS answered from `records`. */
export function dkimpyArcVerify(
  message: Buffer | string,
  records: Record<string, string>,
): { cv: string; comment: string } {
  const r = spawnSync(PYTHON, ['-c', ARC_VERIFY_SCRIPT, JSON.stringify(records)], {
    input: Buffer.from(message),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`dkimpy arc_verify failed: ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as { cv: string; comment: string };
}
