import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { startMailyard } from '../../src/server/app.ts';
import { canConnect } from '../helpers/ports.ts';
import { startTestServer, testConfigFile } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';
import { tmpDir } from '../helpers/tmp.ts';

test('a port of 0 disables that listener: nothing is bound and /health says disabled', async (t) => {
  const { app, ports, api } = await startTestServer(t, {
    smtp: { submission_port: 0, smtps_port: 0 },
    imap: { imaps_port: 0 },
  });
  const h = (await (await fetch(`${api}/health`)).json()) as Record<string, any>;
  assert.equal(h.listeners.smtp_submission.state, 'disabled');
  assert.equal(h.listeners.smtps.state, 'disabled');
  assert.equal(h.listeners.imaps.state, 'disabled');
  assert.equal(h.listeners.smtp_relay.state, 'listening');
  assert.equal(await canConnect(ports.relay), true);
  assert.equal(await canConnect(ports.imap), true);
  assert.equal(app.listeners.find((l) => l.name === 'smtp_submission')!.status().port, 0);
});

test('SMTP listeners greet over plain TCP, STARTTLS and implicit TLS with the self-signed certificate', async (t) => {
  const { ports } = await startTestServer(t);
  const s = await RawSmtp.connect(ports.relay);
  t.after(() => s.close());
  assert.match((await s.line())!, /^220 mail\.test\.example ESMTP Mailyard/);
  const socket = tls.connect({
    port: ports.smtps,
    host: '127.0.0.1',
    rejectUnauthorized: false,
    servername: 'mail.test.example',
  });
  const wrapped = new RawSmtp(socket);
  t.after(() => wrapped.close());
  assert.match((await wrapped.line())!, /^220 /);
  assert.equal(socket.getPeerCertificate().subject.CN, 'mail.test.example');
});

test('the submission port relays nothing without authentication: MAIL gets 530 5.7.0', async (t) => {
  const { ports } = await startTestServer(t);
  const s = await RawSmtp.connect(ports.submission);
  t.after(() => s.close());
  await s.line();
  s.write('HELO client.example\r\n');
  assert.match((await s.line())!, /^250 /);
  s.write('MAIL FROM:<a@remote.example>\r\n');
  assert.match((await s.line())!, /^530 5\.7\.0 /);
});

test('a port already in use aborts start-up with a clear error and leaves nothing bound', async (t) => {
  const dir = tmpDir(t);
  const { file, ports } = await testConfigFile(dir);
  const blocker = net.createServer().listen(ports.imap, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  t.after(() => blocker.close());
  const { config } = loadConfig({ file, env: {} });
  await assert.rejects(
    startMailyard(config, { log: pino({ level: 'silent' }) }),
    new RegExp(`imap: cannot listen on 127\\.0\\.0\\.1:${ports.imap}: .*already in use`),
  );
  for (const p of [ports.relay, ports.submission, ports.api])
    assert.equal(await canConnect(p), false, `port ${p} left bound`);
});
