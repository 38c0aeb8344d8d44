// A throwaway certificate authority made with the openssl command line (in a temporary folder), issuing
// server certificates for the names a test gives: for tests of TLS clients that verify certificates against a
// CA they are told about (never Node's roots).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tmpDir } from './tmp.ts';
import { needTool } from './tools.ts';

export interface TestCa {
  /** The CA certificate (PEM), to trust. */
  cert: string;
  /** A key and certificate (PEM) for `names` (DNS subject alternative names), signed by the CA. */
  issue(names: string[]): { key: string; cert: string };
}

/** A new CA, or null (the test is skipped) without openssl. */
export function createTestCa(t: TestContext, commonName = 'Mailyard Test CA'): TestCa | null {
  const openssl = needTool(t, 'openssl', 'openssl');
  if (!openssl) return null;
  const dir = tmpDir(t);
  const run = (args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 0;
  return {
    cert: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    issue(names) {
      const n = ++serial;
      run(['req', ...ec, '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', `/CN=${names[0]}`]);
      writeFileSync(
        join(dir, `${n}.ext`),
        [
          `subjectAltName=${names.map((x) => `DNS:${x}`).join(',')}`,
          'basicConstraints=CA:FALSE',
          'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=serverAuth',
          '',
        ].join('\n'),
      );
      run([
        'x509',
        '-req',
        '-in',
        `${n}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        String(1000 + n),
        '-days',
        '2',
        '-extfile',
        `${n}.ext`,
        '-out',
        `${n}.pem`,
      ]);
      return { key: readFileSync(join(dir, `${n}.key`), 'utf8'), cert: readFileSync(join(dir, `${n}.pem`), 'utf8') };
    },
  };
}
