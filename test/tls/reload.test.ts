// Certificate files reloaded without a restart, certificates by SNI, and clear errors (#17 parts 1-2), on every TLS
// listener (IMAPS, IMAP STARTTLS, SMTPS, SMTP STARTTLS on submission), checked with real TLS clients.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import tls from 'node:tls';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { startMailyard } from '../../src/server/app.ts';
import { createSelfSigned } from '../../src/tls/selfsigned.ts';
import { spawnServer, startTestServer, testConfigFile } from '../helpers/server.ts';
import { tmpDir } from '../helpers/tmp.ts';
import { waitUntil } from '../helpers/wait.ts';

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/** Writes a certificate and key for `host` as `<name>.crt/.key` in `dir` (atomically, as renewal tools do). */
async function writePair(dir: string, name: string, host: string, days = 90) {
  const pair = await createSelfSigned(host, days);
  for (const [ext, body] of [
    ['crt', pair.cert],
    ['key', pair.key],
  ] as const) {
    writeFileSync(join(dir, `.${name}.${ext}.new`), body, { mode: 0o600 });
    renameSync(join(dir, `.${name}.${ext}.new`), join(dir, `${name}.${ext}`));
  }
  return { ...pair, cert_file: join(dir, `${name}.crt`), key_file: join(dir, `${name}.key`) };
}

/** Reads until `re` matches what `socket` sent (and returns all of it). */
function readUntil(socket: net.Socket | tls.TLSSocket, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const on = (d: Buffer) => {
      got += d.toString('latin1');
      if (re.test(got)) {
        socket.off('data', on);
        resolve(got);
      }
    };
    socket.on('data', on);
    socket.once('error', reject);
  });
}

type Ports = { imap: number; imaps: number; smtps: number; submission: number };

/** The fingerprint of the certificate each TLS listener presents for `servername` (none: no SNI). */
async function presented(ports: Ports, servername?: string) {
  const opts = { host: '127.0.0.1', rejectUnauthorized: false, ...(servername ? { servername } : {}) };
  const implicit = (port: number) =>
    new Promise<string>((resolve, reject) => {
      const s = tls.connect({ ...opts, port }, () => {
        resolve(s.getPeerX509Certificate()!.fingerprint256);
        s.destroy();
      });
      s.once('error', reject);
    });
  const starttls = async (port: number, greeting: RegExp, steps: [string, RegExp][]) => {
    const plain = net.connect(port, '127.0.0.1');
    await readUntil(plain, greeting);
    for (const [cmd, reply] of steps) {
      const answer = readUntil(plain, reply);
      plain.write(`${cmd}\r\n`);
      await answer;
    }
    return new Promise<string>((resolve, reject) => {
      const s = tls.connect({ ...opts, socket: plain }, () => {
        resolve(s.getPeerX509Certificate()!.fingerprint256);
        s.destroy();
      });
      s.once('error', reject);
    });
  };
  return {
    imaps: await implicit(ports.imaps),
    smtps: await implicit(ports.smtps),
    imap: await starttls(ports.imap, /^\* OK/m, [['a STARTTLS', /^a OK/m]]),
    submission: await starttls(ports.submission, /^220 /m, [
      ['EHLO client.example', /^250 /m],
      ['STARTTLS', /^220 /m],
    ]),
  };
}

const all = (fp: string) => ({ imaps: fp, smtps: fp, imap: fp, submission: fp });

async function serverWithFiles(t: TestContext) {
  const dir = tmpDir(t);
  const a = await writePair(dir, 'mail', 'mail.test.example');
  const s = await startTestServer(t, { tls: { cert_file: a.cert_file, key_file: a.key_file } });
  return { ...s, dir, a };
}

test('a certificate replaced on disk is served by every TLS listener without a restart; open sessions stay usable', async (t) => {
  const { ports, dir, a, app } = await serverWithFiles(t);
  assert.deepEqual(await presented(ports), all(fingerprint(a.cert)));
  // An IMAPS session opened before the renewal.
  const before = tls.connect({ host: '127.0.0.1', port: ports.imaps, rejectUnauthorized: false });
  t.after(() => before.destroy());
  await readUntil(before, /^\* OK/m);

  const b = await writePair(dir, 'mail', 'mail.test.example');
  await waitUntil(async () => (await presented(ports)).imaps === fingerprint(b.cert), 'the renewed certificate');
  assert.deepEqual(await presented(ports), all(fingerprint(b.cert)));
  assert.equal(app.health().tls.valid_to, new X509Certificate(b.cert).validTo);
  const noop = readUntil(before, /^n1 OK/m);
  before.write('n1 NOOP\r\n');
  assert.match(await noop, /^n1 OK/m, 'the session opened before still works');
});

test('a bad key, a mismatched pair or an expired certificate is refused with an error naming the file; the previous certificate stays', async (t) => {
  const { ports, dir, a, app } = await serverWithFiles(t);
  const other = await createSelfSigned('mail.test.example');
  // Not watched here: reloadTls() (what SIGHUP does) reports the outcome synchronously.
  writeFileSync(join(dir, 'mail.key'), other.key); // the key of another certificate
  assert.equal(app.reloadTls(), false);
  writeFileSync(join(dir, 'mail.key'), 'not a key');
  assert.equal(app.reloadTls(), false);
  const expired = await createSelfSigned('mail.test.example', -1);
  writeFileSync(join(dir, 'mail.crt'), expired.cert);
  writeFileSync(join(dir, 'mail.key'), expired.key);
  assert.equal(app.reloadTls(), false);
  assert.deepEqual(await presented(ports), all(fingerprint(a.cert)), 'still the first certificate');
  // The same problems at start-up are configuration errors naming the key and the file.
  const bad = await writePair(tmpDir(t), 'bad', 'mail.test.example');
  writeFileSync(bad.key_file, other.key);
  const { file } = await testConfigFile(tmpDir(t), { tls: { cert_file: bad.cert_file, key_file: bad.key_file } });
  const { config } = loadConfig({ file, env: {} });
  await assert.rejects(startMailyard(config, { log: pino({ level: 'silent' }) }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.problems.join('\n'), /tls\.key_file.*bad\.key.*does not match/);
    return true;
  });
});

test('SNI: each name gets the certificate that covers it, clients without SNI or with another name the default', async (t) => {
  const dir = tmpDir(t);
  const a = await writePair(dir, 'mail', 'mail.test.example');
  const c2 = await writePair(dir, 'company2', 'mail.company2.test');
  const { ports } = await startTestServer(t, {
    tls: {
      cert_file: a.cert_file,
      key_file: a.key_file,
      certificates: [{ cert_file: c2.cert_file, key_file: c2.key_file }],
    },
  });
  assert.deepEqual(await presented(ports, 'mail.company2.test'), all(fingerprint(c2.cert)));
  assert.deepEqual(await presented(ports, 'MAIL.Company2.test'), all(fingerprint(c2.cert)), 'case-insensitive');
  assert.deepEqual(await presented(ports, 'other.example'), all(fingerprint(a.cert)));
  assert.deepEqual(await presented(ports), all(fingerprint(a.cert)));
  // A renewed SNI certificate is picked up like the default one.
  const c3 = await writePair(dir, 'company2', 'mail.company2.test');
  await waitUntil(
    async () => (await presented(ports, 'mail.company2.test')).imaps === fingerprint(c3.cert),
    'the renewed SNI certificate',
  );
});

test('SIGHUP makes a running server read its certificate files again', async (t) => {
  const dir = tmpDir(t);
  const a = await writePair(dir, 'mail', 'mail.test.example');
  const { spawned: p } = await spawnServer(t, dir, {
    tls: { cert_file: a.cert_file, key_file: a.key_file },
    logger: { level: 'info' },
  });
  const log = join(dir, 'mailyard.log');
  const reloads = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l.includes('"tls certificates reloaded"') && l.includes('"SIGHUP"')).length
      : 0;
  assert.equal(reloads(), 0);
  p.child.kill('SIGHUP');
  await waitUntil(() => reloads() === 1, 'a reload logged for SIGHUP', { detail: () => p.stderr() });
  assert.equal(p.child.exitCode, null, 'still running');
  p.child.kill('SIGTERM');
  assert.equal((await p.exited).code, 0);
});
