// One transaction, one content policy (README "Recipients with different policies"): a recipient whose domain
// judges content differently from the recipients already accepted gets 452 4.5.3 and is sent by the client in a
// transaction of its own; recipients of domains with the same content settings share a transaction.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { message } from '../../helpers/smtp.ts';
import { policyServer } from './setup.ts';

const OFF = {
  rate_limit: { enabled: false },
  greylist: { enabled: false },
  spf: { enabled: false },
  dmarc: { enabled: false },
};

test('recipients of a domain with another content policy get 452 4.5.3; the same policy shares the transaction', async (t) => {
  const s = await policyServer(t, { security: OFF });
  // Same settings so far: one transaction for both domains.
  const same = await s.send('alice@remote.example', ['bob@example.com', 'dave@other.example']);
  assert.deepEqual(same.rcpt, ['250 2.1.5', '250 2.1.5']);

  await s.security('other.example', { spam: { enabled: true, reject_score: 7 } });
  const c = await s.client();
  const r = await c.send(
    'alice@remote.example',
    ['bob@example.com', 'carol@example.com', 'dave@other.example'],
    message('mixed'),
  );
  assert.deepEqual(
    r.rcpt.map((x) => `${x.code} ${x.text.slice(0, 5)}`),
    ['250 2.1.5', '250 2.1.5', '452 4.5.3'],
  );
  assert.equal(r.data?.code, 250, 'the message is delivered to the recipients of the first policy');
  assert.equal(s.inbox('carol@example.com').rows.length, 1);
  assert.equal(s.inbox('dave@other.example').rows.length, 1, 'only the earlier message');
  // The deferred recipient alone, in its own transaction, is accepted.
  const retry = await c.send('alice@remote.example', ['dave@other.example'], message('mixed retry'));
  assert.equal(retry.rcpt[0]!.code, 250);
  // A 452 for a policy mismatch is not the client's error: many of them do not close the session.
  for (let i = 0; i < 12; i++) {
    await c.cmd('RSET');
    assert.equal((await c.cmd('MAIL FROM:<alice@remote.example>')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<bob@example.com>')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<dave@other.example>')).code, 452);
  }
  assert.equal(c.closed, false);
});
