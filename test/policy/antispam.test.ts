// The antispam check's decisions (src/policy/antispam.ts) on what a spamd-speaking daemon answers: the domain's
// reject and quarantine scores, the X-Spam-* headers, spamd unreachable -> accepted as unscanned, and a message over
// SPAM_MAX_SIZE never sent. The daemon is a loopback fake answering SYMBOLS with a chosen score (the real spamd is
// exercised in test/policy/spamd.test.ts and test/smtp/policy/scanners.test.ts).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { domainDefaults } from '../../schema/db/domain-defaults.ts';
import { createAntispam, SPAM_MAX_SIZE } from '../../src/policy/antispam.ts';
import { createSpamd } from '../../src/policy/spamd.ts';
import type { DomainRow } from '../../src/repos/rows.ts';
import { readSpamc, startFakeDaemon } from '../helpers/fakeDaemon.ts';
import { tmpDir } from '../helpers/tmp.ts';

const domain = {
  ...domainDefaults,
  name: 'example.com',
  spam_reject_score: 10,
  spam_quarantine_score: 5,
} as unknown as DomainRow;

test('scores map to reject / quarantine / accept with headers; spamd down accepts unscanned; big messages are not sent', async (t) => {
  let score = 0;
  const fake = await startFakeDaemon(t, (sock) =>
    readSpamc(sock, () => {
      const body = 'GTUBE,MISSING_DATE';
      sock.end(
        `SPAMD/1.1 0 EX_OK\r\nContent-length: ${body.length}\r\nSpam: ${score >= 5 ? 'True' : 'False'} ; ${score.toFixed(1)} / 5.0\r\n\r\n${body}`,
      );
    }),
  );
  const spam = createAntispam(createSpamd({ host: '127.0.0.1', port: fake.port, timeoutMs: 2000, maxConnections: 2 }));
  const dir = tmpDir(t);
  const small = join(dir, 'small.eml');
  writeFileSync(small, 'Subject: x\r\n\r\nhello\r\n');
  const check = async (s: number) => {
    score = s;
    return spam.check(small, domain, 20);
  };
  const rejected = await check(12);
  assert.equal(rejected?.action, 'reject');
  assert.equal(rejected?.reason, 'spam');
  const quarantined = await check(6);
  assert.equal(quarantined?.action, 'quarantine');
  assert.ok(quarantined?.headers?.includes('X-Spam-Flag: YES'));
  const ham = await check(1);
  assert.equal(ham?.action, 'accept');
  assert.ok(ham?.headers?.some((h) => h.startsWith('X-Spam-Status: No, score=1.0 required=5.0')));
  const sent = fake.accepted;

  const big = await spam.check(small, domain, SPAM_MAX_SIZE + 1);
  assert.equal(big?.action, 'accept');
  assert.equal(big?.reason, 'too_large');
  assert.equal(fake.accepted, sent, 'a message over SPAM_MAX_SIZE is not sent to spamd');

  const down = createAntispam(createSpamd({ host: '127.0.0.1', port: 9, timeoutMs: 2000, maxConnections: 2 }));
  const r = await down.check(small, domain, 20);
  assert.equal(r?.action, 'accept');
  assert.equal(r?.reason, 'scanner_unavailable');
  assert.equal(r?.detail?.unscanned, true);
});
