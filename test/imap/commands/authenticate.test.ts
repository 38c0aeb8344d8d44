/**
 * AUTHENTICATE PLAIN (src/imap/commands/authenticate.ts): SASL-IR, continuation, cancel, foreign authzid.
 * (Moved from test/imap/auth.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD } from '../clients.ts';
import { imapServer } from '../setup.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

test('AUTHENTICATE PLAIN with SASL-IR, with a continuation, "=" and "*" cancel, and a foreign authzid', async (t) => {
  const s = await imapServer(t);
  const c1 = await s.raw();
  const ir = await c1.cmd(`AUTHENTICATE PLAIN ${b64(`\0bob@example.com\0${PASSWORD}`)}`);
  assert.match(ir.tagged, /^A1 OK \[CAPABILITY [^\]]*UIDPLUS[^\]]*\] Logged in$/);
  assert.match((await c1.cmd('SELECT INBOX')).tagged, /^A2 OK \[READ-WRITE\]/);

  const c2 = await s.raw();
  const tag = c2.nextTag();
  c2.write(`${tag} AUTHENTICATE PLAIN\r\n`);
  assert.equal(await c2.readLine(), '+ ');
  c2.write(`${b64(`bob@example.com\0bob@example.com\0${PASSWORD}`)}\r\n`);
  assert.match((await c2.until(tag)).tagged, new RegExp(`^${tag} OK \\[CAPABILITY`));

  const c3 = await s.raw();
  const t3 = c3.nextTag();
  c3.write(`${t3} AUTHENTICATE PLAIN\r\n`);
  assert.equal(await c3.readLine(), '+ ');
  c3.write('*\r\n');
  assert.equal((await c3.until(t3)).tagged, `${t3} BAD Authentication cancelled`);
  // Still not authenticated, and the session is usable.
  assert.match((await c3.cmd('SELECT INBOX')).tagged, /BAD SELECT is not allowed before authentication/);
  assert.match((await c3.cmd('AUTHENTICATE PLAIN =')).tagged, /BAD Invalid PLAIN response/);
  assert.match(
    (await c3.cmd(`AUTHENTICATE PLAIN ${b64(`carol@example.com\0bob@example.com\0${PASSWORD}`)}`)).tagged,
    /NO \[AUTHORIZATIONFAILED\]/,
  );
  assert.match((await c3.cmd('AUTHENTICATE CRAM-MD5')).tagged, /NO \[CANNOT\] Unsupported mechanism/);
  assert.match(
    (await c3.cmd(`AUTHENTICATE PLAIN ${b64(`\0carol@example.com\0${PASSWORD}`)}`)).tagged,
    /^A\d+ OK \[CAPABILITY/,
  );
});
