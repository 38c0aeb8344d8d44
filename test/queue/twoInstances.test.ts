// The acceptance run of outbound delivery: two Mailyard instances on loopback and a DNS server whose MX records
// point at them. alice@a.test submits on instance A (587 with STARTTLS + AUTH, and 465) to bob@b.test on instance
// B and to carol@a.test on A; instance B checks SPF, DKIM and DMARC like any MX, and python3-dkim verifies the
// signature independently.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import nodemailer from 'nodemailer';
import { dkimpyVerify, needDkimpy, txtRecordLine } from '../helpers/dkimpy.ts';
import { startDnsmasq } from '../helpers/dnsmasq.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { freePort } from '../helpers/ports.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

test('A submits over 587 and 465 to a user of B and a local user: both arrive; B sees dkim=pass and spf=pass; dkimpy agrees', async (t) => {
  if (!needDkimpy(t)) return;
  const dnsPort = await freePort();
  const dnsServer = `127.0.0.1:${dnsPort}`;
  const b = await startTestServer(t, {
    server: { hostname: 'mx.b.test' },
    dns: { servers: [dnsServer], timeout: 2 },
    smtp: { trusted_networks: [] },
  });
  const a = await startTestServer(t, {
    server: { hostname: 'mail.a.test' },
    dns: { servers: [dnsServer], timeout: 2 },
    smtp: { outbound_port: b.ports.relay },
    queue: { mta_sts: false },
  });
  await a.app.services.domains.create('test', 'a.test', true);
  await a.app.services.accounts.createUser('test', 'alice@a.test', TEST_PASSWORD);
  await a.app.services.accounts.createUser('test', 'carol@a.test', TEST_PASSWORD);
  await b.app.services.domains.create('test', 'b.test', true);
  await b.app.services.accounts.createUser('test', 'bob@b.test', TEST_PASSWORD);
  const security = { clamav: { enabled: false }, spam: { enabled: false }, greylist: { enabled: false } };
  const put = await fetch(`${b.api}/api/domains/b.test/security`, {
    method: 'PUT',
    headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
    body: JSON.stringify(security),
  });
  assert.ok(put.ok, await put.text());

  // A's DKIM record as its API shows it, published with SPF and DMARC for a.test and the MX of b.test.
  const keys = (await (
    await fetch(`${a.api}/api/domains/a.test/dkim`, { headers: { authorization: 'Bearer test-admin-token' } })
  ).json()) as { status: string; dns_name: string; dns_record: string }[];
  const active = keys.find((k) => k.status === 'active')!;
  const records: Record<string, string> = {
    [active.dns_name]: active.dns_record,
    'a.test': 'v=spf1 ip4:127.0.0.1 -all',
    '_dmarc.a.test': 'v=DMARC1; p=reject',
  };
  const dns = await startDnsmasq(
    t,
    [
      'local=/#/',
      'mx-host=b.test,mx.b.test,10',
      'host-record=mx.b.test,127.0.0.1',
      'mx-host=a.test,mail.a.test,10',
      'host-record=mail.a.test,127.0.0.1',
      ...Object.entries(records).map(([n, v]) => txtRecordLine(n, v)),
    ],
    60,
    dnsPort,
  );
  if (!dns) return;

  const auth = { user: 'alice@a.test', pass: TEST_PASSWORD };
  const tls = { rejectUnauthorized: false };
  const on587 = nodemailer.createTransport({
    host: '127.0.0.1',
    port: a.ports.submission,
    secure: false,
    requireTLS: true,
    auth,
    tls,
  });
  const on465 = nodemailer.createTransport({ host: '127.0.0.1', port: a.ports.smtps, secure: true, auth, tls });
  const sent = await on587.sendMail({
    from: 'Alice <alice@a.test>',
    to: ['bob@b.test', 'carol@a.test'],
    subject: 'over 587',
    text: 'Hello Bob and Carol.\n.\nA dot line above.\n',
  });
  assert.deepEqual(sent.accepted.sort(), ['bob@b.test', 'carol@a.test']);
  await on465.sendMail({ from: 'alice@a.test', to: 'bob@b.test', subject: 'over 465', text: 'Implicit TLS.\n' });

  const texts = async (s: typeof a, email: string) => {
    const { users, mailboxes, messages } = s.app.repos;
    const u = users.get(email)!;
    const box = mailboxes.get(u.id, 'INBOX')!;
    const rows = messages.rows(box.id, messages.uids(box.id));
    return Promise.all(rows.map(async (r) => (await s.app.mail.read(u, 'INBOX', r)).toString('utf8')));
  };
  const atB = await waitUntil(
    async () => ((await texts(b, 'bob@b.test')).length === 2 ? texts(b, 'bob@b.test') : null),
    'both messages at B',
    {
      timeoutMs: 20_000,
      detail: () => JSON.stringify(a.app.repos.queue.list({ limit: 10 }).map((r) => [r.status, r.last_error])),
    },
  );
  for (const m of atB) {
    const ar = /^Authentication-Results: mx\.b\.test;[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*/m.exec(m)?.[0] ?? '';
    assert.match(ar, /\bdkim=pass\b[^;]*header\.[di]=@?a\.test/, ar);
    assert.match(ar, /\bspf=pass\b/, ar);
    assert.match(ar, /\bdmarc=pass\b/, ar);
    assert.match(m, /^DKIM-Signature: [^\r\n]*(?:\r?\n[ \t][^\r\n]*)*\bd=a\.test\b/m);
    assert.equal(m.match(/^Return-Path:/gim)?.length, 1, 'one Return-Path: the one B added (A sent none)');
    // The independent verdict, on the bytes B stored.
    assert.deepEqual(dkimpyVerify(m, records), [true], 'python3-dkim verifies the signature');
  }
  assert.match(atB.find((m) => /Subject: over 587/.test(m))!, /\r\n\.\r\nA dot line above\./);
  const atA = await texts(a, 'carol@a.test');
  assert.equal(atA.length, 1);
  assert.match(atA[0]!, /^DKIM-Signature: /m, 'the local copy is signed too (one signed file for every recipient)');
  const delivered = a.app.repos.deliveryEvents.list({ types: ['DELIVERED_REMOTE'] });
  assert.equal(delivered.length, 2);
  assert.equal((delivered[0]!.details as { mx: string }).mx, 'mx.b.test');
});
