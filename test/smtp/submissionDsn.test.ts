import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dotStuff } from '../helpers/smtp.ts';
import { waitUntil } from '../helpers/wait.ts';
import { mail, submissionServer } from './submissionSetup.ts';

test('NOTIFY=SUCCESS for a recipient delivered here: the sender gets a "delivered" report (RFC 3461 4.1); NOTIFY=NEVER or none: nothing', async (t) => {
  const s = await submissionServer(t, { queue: { hold: true } });
  const c = await s.session();
  assert.equal((await c.cmd('MAIL FROM:<alice@example.com> RET=HDRS ENVID=env+2Done')).code, 250);
  assert.equal(
    (await c.cmd('RCPT TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.com')).code,
    250,
  );
  assert.equal((await c.cmd('RCPT TO:<dave@other.example> NOTIFY=NEVER')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  c.write(Buffer.concat([dotStuff(Buffer.from(mail({ subject: 'report my delivery' }))), Buffer.from('.\r\n')]));
  assert.equal((await c.reply()).code, 250);
  const report = await waitUntil(
    async () => (await s.texts('alice@example.com')).find((m) => /multipart\/report/.test(m)),
    'the success report in alice INBOX',
  );
  assert.match(report, /^Action: delivered/m);
  assert.match(report, /^Status: 2\.0\.0/m);
  assert.match(report, /^Final-Recipient: rfc822; ?bob@example\.com/m);
  assert.match(report, /^Original-Recipient: rfc822; ?bob@example\.com/m);
  assert.match(report, /^Original-Envelope-Id: env-one\r?$/m, 'the ENVID, xtext-decoded');
  assert.doesNotMatch(report, /dave@other\.example/);
  assert.match(report, /^Content-Type: text\/rfc822-headers/m);
  assert.match(report, /Subject: report my delivery/);

  // Without NOTIFY=SUCCESS: no report.
  const before = (await s.texts('alice@example.com')).length;
  const r = await c.send('alice@example.com', ['bob@example.com'], mail({ subject: 'no report' }));
  assert.equal(r.data?.code, 250);
  await new Promise((res) => setTimeout(res, 300));
  assert.equal((await s.texts('alice@example.com')).length, before);
});
