// The DKIM hook of authenticated submission (SubmissionDeps.dkim): no signer is wired in app.ts yet, so this test
// starts a second submission listener (createSmtpServer, as app.ts does) on the test server's store and
// repositories with a recording signer, and checks what it is given and where its lines end up.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import nodemailer from 'nodemailer';
import { createMemoryCounters } from '../../src/policy/counters.ts';
import { createSmtpServer } from '../../src/smtp/server.ts';
import type { SubmissionDeps } from '../../src/smtp/submission.ts';
import { freePorts } from '../helpers/ports.ts';
import { mail, PASSWORD, submissionServer } from './submissionSetup.ts';

test('the DKIM hook signs the file with Message-ID and Date already in it, for the From domain; its lines go on top', async (t) => {
  const s = await submissionServer(t);
  const calls: { fromDomain: string; head: string }[] = [];
  let fail = false;
  const deps: SubmissionDeps = {
    config: s.app.config,
    mail: s.app.mail,
    repos: s.app.repos,
    logins: s.app.repos,
    counters: createMemoryCounters(),
    log: s.app.log,
    dkim: {
      async sign(path, fromDomain) {
        if (fail) throw new Error('signer down');
        const text = readFileSync(path, 'utf8');
        calls.push({ fromDomain, head: text.slice(0, text.indexOf('\r\n\r\n')) });
        return 'DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=test;\r\n\th=from:to:subject; b=AAAA\r\n';
      },
    },
  };
  const inbound = undefined as unknown as Parameters<typeof createSmtpServer>[4];
  const server = createSmtpServer('submission', s.app.config, s.app.tls, s.app.log, inbound, deps);
  const [port] = await freePorts(1);
  await server.listen(port!, '127.0.0.1');
  t.after(() => server.close(0));

  const tr = nodemailer.createTransport({
    host: '127.0.0.1',
    port: port!,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'alice@example.com', pass: PASSWORD },
  });
  t.after(() => tr.close());
  const raw = mail({ from: 'Alice <alice+x@Example.COM>', subject: 'signed', id: false, date: false });
  await tr.sendMail({ envelope: { from: 'alice@example.com', to: ['bob@example.com'] }, raw });
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.fromDomain, 'example.com');
  assert.match(calls[0]!.head, /^Message-ID: </m, 'signed after Message-ID was added');
  assert.match(calls[0]!.head, /^Date: /m, 'signed after Date was added');
  const [stored] = await s.texts('bob@example.com');
  assert.ok(
    stored!.startsWith('DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=test;\r\n\th=from:to:subject; b=AAAA\r\n'),
    stored!.slice(0, 200),
  );
  assert.equal(stored!.match(/^DKIM-Signature:/gm)?.length, 1);

  // A signer failure is a temporary refusal (no unsigned mail goes out), and nothing is stored.
  fail = true;
  await assert.rejects(
    tr.sendMail({ envelope: { from: 'alice@example.com', to: ['bob@example.com'] }, raw }),
    (e: Error & { responseCode?: number }) => e.responseCode === 451,
  );
  assert.equal(s.folder('bob@example.com').rows.length, 1);
});
