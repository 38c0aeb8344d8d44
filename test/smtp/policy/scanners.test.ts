// ClamAV and SpamAssassin through a real SMTP session, against a real clamd (EICAR test signatures only) and a
// real spamd on loopback, started by the tests and stopped by PID: EICAR 554, GTUBE 550 at the default reject
// score, GTUBE to Junk after the reject score is raised through the API (next transaction, no restart), ham to
// INBOX with its score; each clamav_virus_action and clamav_fail_action (clamd stopped); spamd down delivers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EICAR_SIGNATURES, sharedClamd, startClamd } from '../../helpers/clamd.ts';
import { cleanMessage, eicarMessage, gtubeMessage } from '../../helpers/scanMessages.ts';
import { sharedSpamd } from '../../helpers/spamd.ts';
import { needTool } from '../../helpers/tools.ts';
import { policyServer } from './setup.ts';

const clamdFor = sharedClamd();
const spamdFor = sharedSpamd();
const QUIET = { greylist: { enabled: false }, rate_limit: { enabled: false } };
const FROM = 'alice@remote.example';

test('EICAR as a base64 attachment is refused with 554 5.7.1 naming the signature; quarantine and tag actions', async (t) => {
  const clamd = await clamdFor(t);
  if (!clamd) return;
  const s = await policyServer(t, {
    over: { security: { clamav: { socket_path: clamd.socket } } },
    security: { ...QUIET, clamav: { enabled: true, virus_action: 'reject' } },
  });
  const virus = await s.send(FROM, ['bob@example.com'], eicarMessage().text);
  assert.equal(virus.data?.slice(0, 9), '554 5.7.1');
  const signature = /virus found \(([^)]+)\)/.exec(virus.raw.data!.text)?.[1];
  assert.ok(signature && EICAR_SIGNATURES.includes(signature), virus.raw.data!.text);
  assert.equal(s.inbox('bob@example.com').rows.length, 0, 'nothing stored');
  const line = s.logged('virus_detected').at(-1);
  assert.equal(line?.signature, signature);
  const ev = s.app.repos.deliveryEvents.list({ types: ['REJECTED'] }).at(-1)!;
  assert.equal(ev.reason, 'virus_detected');
  assert.equal((ev.details as Record<string, unknown>).check, 'clamav');

  // A clean message passes the same scanner.
  assert.equal((await s.send(FROM, ['bob@example.com'], cleanMessage())).data?.slice(0, 3), '250');
  assert.equal(s.inbox('bob@example.com').rows.length, 1);

  // Over clamav.tcp too, with quarantine: the message goes to Junk, not INBOX (the next transaction, no restart).
  await s.security('example.com', { clamav: { virus_action: 'quarantine' } });
  assert.equal((await s.send(FROM, ['bob@example.com'], eicarMessage().text)).data?.slice(0, 3), '250');
  assert.equal(s.inbox('bob@example.com').rows.length, 1);
  const junk = await s.texts('bob@example.com', 'Junk');
  assert.equal(junk.length, 1);
  assert.match(junk[0]!, /^X-Virus-Status: Infected \(Test\.EICAR/m);
  const q = s.app.repos.deliveryEvents.list({ types: ['QUARANTINED'] }).at(-1)!;
  assert.equal(q.reason, 'virus_detected');

  await s.security('example.com', { clamav: { virus_action: 'tag' } });
  assert.equal((await s.send(FROM, ['bob@example.com'], eicarMessage().text)).data?.slice(0, 3), '250');
  const inbox = await s.texts('bob@example.com');
  assert.equal(inbox.length, 2);
  assert.match(inbox[1]!, /^X-Virus-Status: Infected/m);
});

test('clamd down: clamav_fail_action reject is a 451 tempfail, quarantine/tag/accept deliver as configured', async (t) => {
  if (!needTool(t, 'clamd', 'clamav-daemon')) return;
  const clamd = await startClamd(t);
  if (!clamd) return;
  const s = await policyServer(t, {
    over: { security: { clamav: { socket_path: clamd.tcp, timeout: 5 } } },
    security: { ...QUIET, clamav: { enabled: true, fail_action: 'reject' } },
  });
  assert.equal((await s.send(FROM, ['bob@example.com'], cleanMessage())).data?.slice(0, 3), '250', 'clamd up');
  await clamd.stop();
  const refused = await s.send(FROM, ['bob@example.com'], cleanMessage());
  assert.equal(refused.data?.slice(0, 9), '451 4.7.1', 'reject while clamd is down is temporary');
  assert.ok(s.logged('scanner unavailable').length >= 1);
  assert.equal(s.app.repos.deliveryEvents.list({ types: ['DEFERRED'] }).at(-1)?.reason, 'scanner_unavailable');

  await s.security('example.com', { clamav: { fail_action: 'quarantine' } });
  assert.equal((await s.send(FROM, ['bob@example.com'], cleanMessage())).data?.slice(0, 3), '250');
  assert.equal(s.inbox('bob@example.com', 'Junk').rows.length, 1);

  await s.security('example.com', { clamav: { fail_action: 'tag' } });
  assert.equal((await s.send(FROM, ['bob@example.com'], cleanMessage())).data?.slice(0, 3), '250');
  const tagged = await s.texts('bob@example.com');
  assert.equal(tagged.length, 2);
  assert.match(tagged[1]!, /^X-Virus-Status: Unscanned/m);

  await s.security('example.com', { clamav: { fail_action: 'accept' } });
  assert.equal((await s.send(FROM, ['bob@example.com'], cleanMessage())).data?.slice(0, 3), '250');
  const accepted = await s.texts('bob@example.com');
  assert.equal(accepted.length, 3);
  assert.doesNotMatch(accepted[2]!, /X-Virus-Status/);
});

test('GTUBE 550 at the default reject score; with the reject score far above the 1000 points of GTUBE it goes to Junk; ham lands in INBOX', async (t) => {
  const spamd = await spamdFor(t);
  if (!spamd) return;
  const s = await policyServer(t, {
    over: { security: { spamassassin: { host: spamd.host, port: spamd.port, timeout: 60 } } },
    security: { ...QUIET, spam: { enabled: true } },
  });
  const spam = await s.send(FROM, ['bob@example.com'], gtubeMessage());
  assert.equal(spam.data?.slice(0, 9), '550 5.7.1');
  assert.match(spam.raw.data!.text, /spam \(score 9\d\d|spam \(score 10\d\d/);
  assert.equal(s.logged('spam rejected').length, 1);
  assert.equal(s.app.repos.deliveryEvents.list({ types: ['REJECTED'] }).at(-1)?.reason, 'spam');

  // GTUBE scores 1000 plus whatever other rules fire on the host (seen: 1002 on a CI machine), so the
  // threshold that lets it through has to leave room for those.
  await s.security('example.com', { spam: { reject_score: 5000 } });
  const tagged = await s.send(FROM, ['bob@example.com'], gtubeMessage());
  assert.equal(tagged.data?.slice(0, 3), '250', tagged.data ?? 'no reply');
  const junk = await s.texts('bob@example.com', 'Junk');
  assert.equal(junk.length, 1);
  assert.match(junk[0]!, /^X-Spam-Flag: YES/m);
  assert.match(junk[0]!, /^X-Spam-Status: Yes, score=(?:9\d\d|10\d\d)\.\d required=5\.0[\s\S]*GTUBE/m);
  assert.match(junk[0]!, /^X-Spam-Score: (?:9\d\d|10\d\d)/m);
  assert.equal(s.logged('spam detected').length, 1);

  assert.equal((await s.send(FROM, ['bob@example.com'], cleanMessage())).data?.slice(0, 3), '250');
  const inbox = await s.texts('bob@example.com');
  assert.equal(inbox.length, 1, 'ham in INBOX');
  assert.match(inbox[0]!, /^X-Spam-Status: No, score=-?\d+\.\d/m);
  assert.equal(s.inbox('bob@example.com', 'Junk').rows.length, 1);
});

test('spamd down: the message is delivered, with a warning and unscanned on the event', async (t) => {
  const s = await policyServer(t, {
    over: { security: { spamassassin: { host: '127.0.0.1', port: 9, timeout: 5 } } },
    security: { ...QUIET, spam: { enabled: true } },
  });
  assert.equal((await s.send(FROM, ['bob@example.com'], gtubeMessage())).data?.slice(0, 3), '250');
  assert.equal(s.inbox('bob@example.com').rows.length, 1);
  const warn = s.logged('scanner unavailable').at(-1);
  assert.equal(warn?.check, 'spam');
  assert.equal(warn?.level, 40);
  const received = s.app.repos.deliveryEvents.list({ types: ['RECEIVED'] }).at(-1)!;
  const checks = (received.details as { checks: Record<string, { unscanned?: boolean }> }).checks;
  assert.equal(checks.spam?.unscanned, true);
});
