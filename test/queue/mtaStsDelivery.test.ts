// MTA-STS (RFC 8461) in outbound delivery: a recipient domain whose policy says `enforce` gets its mail only over
// TLS to an MX host the policy names, with a certificate valid for that host; otherwise the message is deferred,
// never sent in clear. A real HTTPS policy host (certificate from a test CA), dnsmasq, and a remote MX with STARTTLS.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { startRemoteMx } from '../helpers/remoteMx.ts';
import { message } from '../helpers/smtp.ts';
import { createTestCa } from '../helpers/testCa.ts';
import { tmpDir } from '../helpers/tmp.ts';
import { waitUntil } from '../helpers/wait.ts';
import { outboundServer } from './setup.ts';

async function bed(t: TestContext, opts: { mxCertNames: string[]; policyMx: string; mode?: string }) {
  const ca = createTestCa(t);
  if (!ca) return null;
  const caFile = join(tmpDir(t), 'ca.pem');
  writeFileSync(caFile, ca.cert);
  const policyCert = ca.issue(['mta-sts.remote.example']);
  let fetched = 0;
  const https = createServer(policyCert, (req, res) => {
    fetched++;
    if (req.url !== '/.well-known/mta-sts.txt') return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`version: STSv1\r\nmode: ${opts.mode ?? 'enforce'}\r\nmx: ${opts.policyMx}\r\nmax_age: 86400\r\n`);
  });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => https.close(() => r())));
  const mxCert = ca.issue(opts.mxCertNames);
  const mx = await startRemoteMx(t, { key: mxCert.key, cert: mxCert.cert });
  const s = await outboundServer(t, {
    mx,
    queue: {
      mta_sts: true,
      mta_sts_port: (https.address() as AddressInfo).port,
      tls_ca_file: caFile,
      retry_schedule: [60],
    },
    dns: ['txt-record=_mta-sts.remote.example,"v=STSv1; id=20261202"', 'host-record=mta-sts.remote.example,127.0.0.1'],
  });
  return { s, mx, fetched: () => fetched };
}

test('MTA-STS enforce: an MX certificate that does not name the MX host defers the message; nothing is sent in clear', async (t) => {
  const b = await bed(t, { mxCertNames: ['other.host.test'], policyMx: 'mx.remote.example' });
  if (!b) return;
  await b.s.send('bob@example.com', ['fwd@example.com'], message('needs tls'));
  const deferred = await waitUntil(() => b.s.events(['DEFERRED'])[0], 'the deferral');
  assert.match(deferred.reason!, /^451 4\.7\.5 TLS required for mx\.remote\.example/);
  assert.equal(b.mx.received.length, 0);
  assert.equal(b.mx.log.length, 0, 'not even a RCPT was sent');
  assert.equal(b.fetched(), 1);
  const row = b.s.app.repos.queue.list({ limit: 10 })[0]!;
  assert.equal(row.status, 'deferred');
  assert.ok(b.s.app.repos.mtaSts.get('remote.example'), 'the policy is cached in SQLite');
});

test('MTA-STS enforce: a valid certificate for a host the policy names is delivered over TLS', async (t) => {
  const b = await bed(t, { mxCertNames: ['mx.remote.example'], policyMx: '*.remote.example' });
  if (!b) return;
  await b.s.send('bob@example.com', ['fwd@example.com'], message('with tls'));
  await waitUntil(() => b.mx.received.length === 1, 'the delivery');
  assert.equal(b.mx.received[0]!.secure, true);
  const attempt = b.s.events(['DELIVERY_ATTEMPT'])[0]!;
  assert.equal((attempt.details as { tls: { authorized: boolean } }).tls.authorized, true);
});

test('MTA-STS enforce: no MX host matches the policy -> deferred; mode testing -> delivered anyway', async (t) => {
  const b = await bed(t, { mxCertNames: ['mx.remote.example'], policyMx: 'mail.elsewhere.example' });
  if (!b) return;
  await b.s.send('bob@example.com', ['fwd@example.com'], message('nowhere'));
  const deferred = await waitUntil(() => b.s.events(['DEFERRED'])[0], 'the deferral');
  assert.match(deferred.reason!, /no MX host matches the policy/);
  assert.equal(b.mx.received.length, 0);

  const testing = await bed(t, {
    mxCertNames: ['other.host.test'],
    policyMx: 'mail.elsewhere.example',
    mode: 'testing',
  });
  if (!testing) return;
  await testing.s.send('bob@example.com', ['fwd@example.com'], message('testing mode'));
  await waitUntil(() => testing.mx.received.length === 1, 'the delivery in testing mode');
});
