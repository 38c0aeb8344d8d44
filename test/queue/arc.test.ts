// Forwarding keeps authentication verifiable: a DKIM-signed message from another domain, forwarded by an alias to a
// third domain, leaves with an SRS envelope sender and an ARC set (RFC 8617) sealed by the forwarding domain,
// carrying the results this MX found; python3-dkim verifies the chain at the destination.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dkimpyArcVerify, dkimSign, makeKey, needDkimpy, txtRecordLine } from '../helpers/dkimpy.ts';
import { startDnsmasq } from '../helpers/dnsmasq.ts';
import { freePort } from '../helpers/ports.ts';
import { startRemoteMx } from '../helpers/remoteMx.ts';
import { startTestServer } from '../helpers/server.ts';
import { ehlo, message } from '../helpers/smtp.ts';
import { tmpDir } from '../helpers/tmp.ts';
import { waitUntil } from '../helpers/wait.ts';

test('a forwarded message is ARC-sealed by the forwarding domain; the chain verifies at the destination', async (t) => {
  if (!needDkimpy(t)) return;
  const dnsPort = await freePort();
  const mx = await startRemoteMx(t);
  const s = await startTestServer(t, {
    dns: { servers: [`127.0.0.1:${dnsPort}`], timeout: 2 },
    smtp: { outbound_port: mx.port, trusted_networks: [] },
    queue: { mta_sts: false },
  });
  await s.app.services.domains.create('test', 'example.com', true);
  s.app.services.accounts.createAlias('test', 'fwd@example.com', ['partner@remote.example']);
  const put = await fetch(`${s.api}/api/domains/example.com/security`, {
    method: 'PUT',
    headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
    body: JSON.stringify({ clamav: { enabled: false }, spam: { enabled: false }, greylist: { enabled: false } }),
  });
  assert.ok(put.ok, await put.text());
  const ours = s.app.services.dkim.list('example.com').find((k) => k.status === 'active')!;
  const sender = makeKey(tmpDir(t), 's1', 'sender.example');
  const senderValue = sender.record
    .replace(/^txt-record=[^,]+,/, '')
    .split('","')
    .join('')
    .replace(/"/g, '');
  const records: Record<string, string> = {
    [ours.dnsName]: ours.dnsRecord,
    's1._domainkey.sender.example': senderValue,
    'sender.example': 'v=spf1 ip4:127.0.0.1 -all',
    '_dmarc.sender.example': 'v=DMARC1; p=reject',
  };
  const dns = await startDnsmasq(
    t,
    [
      'local=/#/',
      'mx-host=remote.example,mx.remote.example,10',
      'host-record=mx.remote.example,127.0.0.1',
      ...Object.entries(records).map(([n, v]) => txtRecordLine(n, v)),
    ],
    60,
    dnsPort,
  );
  if (!dns) return;

  const signed = dkimSign(
    message('forwarded with arc', 'Hello.\r\n').replace('alice@remote.example', 'someone@sender.example'),
    sender,
  );
  const c = await ehlo(s.ports.relay);
  const r = await c.send('someone@sender.example', ['fwd@example.com'], signed);
  c.close();
  assert.equal(r.data?.code, 250, r.data?.text);
  await waitUntil(() => mx.received.length === 1, 'the forwarded copy', {
    timeoutMs: 30_000,
    detail: () => JSON.stringify(s.app.repos.queue.list({ limit: 5 }).map((r) => [r.status, r.last_error])),
  });
  const got = mx.received[0]!;
  assert.match(got.from, /^SRS0=/);
  const text = got.data.toString();
  assert.match(text, /^ARC-Seal: i=1; [^\r\n]*(?:\r\n[ \t][^\r\n]*)*\bcv=none\b/m);
  assert.match(text, /^ARC-Seal: [^\r\n]*(?:\r\n[ \t][^\r\n]*)*\bd=example\.com\b/m);
  assert.match(text, /^ARC-Authentication-Results: i=1; mail\.test\.example;[\s\S]*?dkim=pass[\s\S]*?spf=pass/m);
  const verdict = dkimpyArcVerify(got.data, records);
  assert.equal(verdict.cv, 'pass', verdict.comment);
});
