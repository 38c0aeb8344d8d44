/**
 * The outbound SMTP client (src/queue/smtpClient.ts) over real loopback sockets: against an in-process smtp-server
 * that records what it received (body bytes, envelope, DSN parameters, STARTTLS with real certificates), against a
 * scripted peer for greetings, HELO fallback, pipelining on the wire, timeouts and a server closing mid-DATA, and
 * against Postfix's smtp-sink (200 messages over one connection). The DATA transform is also checked against a
 * straightforward reference on random inputs split at random points.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { DataEncoder, encodeData } from '../../src/queue/dataEncoder.ts';
import {
  type ConnectOptions,
  FILE_CHUNK,
  openSmtpConnection,
  SmtpClientError,
  type SmtpConnection,
} from '../../src/queue/smtpClient.ts';
import { xtext } from '../../src/queue/xtext.ts';
import { createSelfSigned } from '../../src/tls/selfsigned.ts';
import { freePort } from '../helpers/ports.ts';
import { startScriptedPeer } from '../helpers/scriptedSmtp.ts';
import { startSmtpSink } from '../helpers/smtpSink.ts';
import { tmpDir } from '../helpers/tmp.ts';
import { needTool } from '../helpers/tools.ts';

type Ctx = Parameters<Parameters<typeof test>[0] & ((t: any) => any)>[0];

interface Received {
  session: SMTPServerSession;
  body: Buffer;
}

/** An smtp-server on loopback recording every message; `rejectRcpt` answers 550 5.1.1 for the addresses it picks. */
async function receiver(
  t: Ctx,
  opts: Partial<SMTPServerOptions> & { rejectRcpt?: (address: string) => boolean } = {},
): Promise<{ port: number; got: Received[] }> {
  const got: Received[] = [];
  const { rejectRcpt, ...rest } = opts;
  const server = new SMTPServer({
    name: 'mx.test',
    logger: false,
    disabledCommands: ['AUTH'],
    authOptional: true,
    hideENHANCEDSTATUSCODES: false,
    hideSTARTTLS: true,
    disableReverseLookup: true,
    closeTimeout: 100,
    onRcptTo(address, _session, cb) {
      if (rejectRcpt?.(address.address))
        return cb(Object.assign(new Error(`<${address.address}>: User unknown`), { responseCode: 550 }));
      cb();
    },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        got.push({
          session: structuredClone({ envelope: session.envelope }) as SMTPServerSession,
          body: Buffer.concat(parts),
        });
        cb(null, 'Ok: queued');
      });
    },
    ...rest,
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as net.AddressInfo).port, got };
}

const base = (port: number, over: Partial<ConnectOptions> = {}): ConnectOptions => ({
  host: '127.0.0.1',
  port,
  mxName: 'mx.test',
  localName: 'client.mailyard.test',
  connectTimeoutMs: 2000,
  commandTimeoutMs: 2000,
  tls: 'none',
  ...over,
});

async function connect(t: Ctx, opts: ConnectOptions): Promise<SmtpConnection> {
  const c = await openSmtpConnection(opts);
  t.after(() => c.close());
  return c;
}

async function rejects(p: Promise<unknown>, kind: string): Promise<SmtpClientError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SmtpClientError, `expected SmtpClientError, got ${err}`);
    assert.equal(err.kind, kind, err.message);
    return err;
  }
  assert.fail(`expected a '${kind}' error`);
}

/** What a receiver must get for `body` once it has undone the dot-stuffing: CRLF line ends, a final CRLF. */
function expectedContent(body: Buffer): Buffer {
  let s = body.toString('latin1').replace(/\r?\n/g, '\r\n');
  if (s.length && !s.endsWith('\r\n')) s += s.endsWith('\r') ? '\n' : '\r\n';
  return Buffer.from(s, 'latin1');
}

/** The DATA bytes on the wire for `body`, by the book (RFC 5321 4.5.2), terminator included. */
function expectedWire(body: Buffer): Buffer {
  const s = expectedContent(body).toString('latin1');
  const lines = s.split('\r\n');
  return Buffer.from(`${lines.map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n')}.\r\n`, 'latin1');
}

test('the DATA transform matches the reference on random bodies split at random points', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('a', '.', '\r', '\n', '..', 'xy'), { maxLength: 60 }),
      fc.array(fc.nat(), { maxLength: 5 }),
      (parts, cuts) => {
        const body = Buffer.from(parts.join(''), 'latin1');
        const points = [...new Set(cuts.map((c) => (body.length ? c % body.length : 0)))].sort((a, b) => a - b);
        const enc = new DataEncoder();
        const out: Buffer[] = [];
        let from = 0;
        for (const p of points) {
          out.push(Buffer.from(enc.push(body.subarray(from, p))));
          from = p;
        }
        out.push(...enc.last(body.subarray(from)));
        assert.equal(Buffer.concat(out).toString('latin1'), expectedWire(body).toString('latin1'));
        assert.equal(Buffer.concat(encodeData(body)).toString('latin1'), expectedWire(body).toString('latin1'));
      },
    ),
    { numRuns: 2000 },
  );
});

test('a body is received byte for byte: bare LF -> CRLF, dot-stuffing, final CRLF added, from a Buffer and a file', async (t) => {
  const { port, got } = await receiver(t);
  const c = await connect(t, base(port));
  const body = Buffer.from('Subject: dots\n\n.\n..x\n.leading dot\r\nmixed CRLF\r\nno final line end', 'latin1');
  const r1 = await c.send({ from: 'a@sender.test', to: [{ address: 'b@mx.test' }] }, body);
  assert.equal(r1.mail.code, 250);
  assert.equal(r1.data?.code, 250);
  assert.match(r1.data?.enhanced ?? '', /^2\.\d+\.\d+$/);
  await c.reset();
  const file = join(tmpDir(t), 'm.eml');
  writeFileSync(file, body);
  const r2 = await c.send({ from: 'a@sender.test', to: [{ address: 'b@mx.test' }] }, file);
  assert.equal(r2.data?.code, 250);
  assert.equal(got.length, 2);
  for (const g of got) assert.equal(g.body.toString('latin1'), expectedContent(body).toString('latin1'));
  assert.equal(c.transactions, 2);
  await c.quit();
  assert.equal(c.usable, false);
});

test('a large file: "." lines and a CRLF split exactly at the read boundaries arrive intact', async (t) => {
  const { port, got } = await receiver(t);
  const c = await connect(t, base(port));
  /** Exactly n bytes of 100-byte lines, the last one shorter, ending with LF. */
  const lines = (n: number) => {
    let out = '';
    while (n - out.length > 100) out += `${'x'.repeat(99)}\n`;
    return `${out}${'y'.repeat(n - out.length - 1)}\n`;
  };
  // The first read ends with a LF and the second starts with "." (stuffed across the boundary); the second ends
  // with a CR whose LF starts the third, followed by a "." line; the file has no final line end.
  const s = `${lines(FILE_CHUNK)}..x\n${lines(FILE_CHUNK - 5)}\r\n.\n${'z'.repeat(1000)}\n.`;
  const body = Buffer.from(s, 'latin1');
  assert.equal(body[FILE_CHUNK - 1], 0x0a);
  assert.equal(body[FILE_CHUNK], 0x2e);
  assert.equal(body[2 * FILE_CHUNK - 1], 0x0d);
  assert.equal(body[2 * FILE_CHUNK], 0x0a);
  const file = join(tmpDir(t), 'big.eml');
  writeFileSync(file, body);
  const r = await c.send({ from: 'a@sender.test', to: [{ address: 'b@mx.test' }] }, file);
  assert.equal(r.data?.code, 250);
  assert.equal(got.length, 1);
  assert.ok(got[0]!.body.equals(expectedContent(body)), 'the received body differs from the expected one');
});

test('several recipients, some rejected: one reply per recipient in order; DATA for the accepted ones', async (t) => {
  const { port, got } = await receiver(t, { rejectRcpt: (a) => a.startsWith('no') });
  const c = await connect(t, base(port));
  assert.ok(c.extensions.has('PIPELINING'));
  const to = ['yes1@mx.test', 'no1@mx.test', 'yes2@mx.test', 'no2@mx.test'].map((address) => ({ address }));
  const r = await c.send({ from: 'a@sender.test', to }, Buffer.from('Subject: x\n\nhi\n'));
  assert.deepEqual(
    r.rcpts.map((x) => x.code),
    [250, 550, 250, 550],
  );
  assert.equal(r.rcpts[1]!.enhanced, '5.1.1');
  assert.match(r.rcpts[1]!.text, /<no1@mx\.test>: User unknown/);
  assert.equal(r.data?.code, 250);
  assert.deepEqual(
    got[0]!.session.envelope.rcptTo.map((x) => x.address),
    ['yes1@mx.test', 'yes2@mx.test'],
  );
  await c.reset();
  const none = await c.send({ from: 'a@sender.test', to: [{ address: 'no3@mx.test' }] }, Buffer.from('x\n'));
  assert.equal(none.rcpts[0]!.code, 550);
  assert.equal(none.data, null);
  assert.equal(got.length, 1);
  await c.reset();
  assert.equal(c.usable, true);
});

test('pipelining: MAIL, RCPTs and DATA arrive in one read; without PIPELINING one command at a time', async (t) => {
  const peer = await startScriptedPeer(t, {
    reply: (cmd) => (cmd.includes('bad@') ? '550 5.1.1 no such user' : undefined),
  });
  const c = await connect(t, base(peer.port));
  const to = [{ address: 'a@mx.test' }, { address: 'bad@mx.test' }, { address: 'b@mx.test' }];
  const r = await c.send({ from: 's@sender.test', to }, Buffer.from('hello\n.\n'));
  assert.deepEqual(
    r.rcpts.map((x) => x.code),
    [250, 550, 250],
  );
  assert.equal(r.data?.code, 250);
  const s = peer.sessions[0]!;
  assert.ok(
    s.chunks.includes(
      'MAIL FROM:<s@sender.test>\r\nRCPT TO:<a@mx.test>\r\nRCPT TO:<bad@mx.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n',
    ),
    `the commands were not sent in one write: ${JSON.stringify(s.chunks)}`,
  );
  assert.equal(s.data[0]!.toString('latin1'), 'hello\r\n..\r\n.\r\n');
  await c.quit();

  const plain = await startScriptedPeer(t, { extensions: ['8BITMIME'] });
  const c2 = await connect(t, base(plain.port));
  assert.equal(c2.extensions.has('PIPELINING'), false);
  const r2 = await c2.send({ from: 's@sender.test', to: to.slice(0, 2) }, Buffer.from('x\r\n'));
  assert.equal(r2.data?.code, 250);
  const cmds = plain.sessions[0]!.chunks.filter((x) => /^(MAIL|RCPT|DATA)/.test(x));
  assert.deepEqual(cmds, [
    'MAIL FROM:<s@sender.test>\r\n',
    'RCPT TO:<a@mx.test>\r\n',
    'RCPT TO:<bad@mx.test>\r\n',
    'DATA\r\n',
  ]);
});

test('no recipient accepted: with PIPELINING a 354 gets a lone "."; without it DATA is not sent', async (t) => {
  const peer = await startScriptedPeer(t, { reply: (cmd) => (cmd.startsWith('RCPT') ? '550 5.1.1 no' : undefined) });
  const c = await connect(t, base(peer.port));
  const r = await c.send({ from: 's@sender.test', to: [{ address: 'a@mx.test' }] }, Buffer.from('body\n'));
  assert.equal(r.data, null);
  assert.equal(r.rcpts[0]!.code, 550);
  assert.deepEqual(peer.sessions[0]!.data.map(String), ['.\r\n']);
  await c.reset();
  assert.equal(c.usable, true);

  const plain = await startScriptedPeer(t, {
    extensions: [],
    reply: (cmd) => (cmd.startsWith('RCPT') ? '550 5.1.1 no' : undefined),
  });
  const c2 = await connect(t, base(plain.port));
  const r2 = await c2.send({ from: 's@sender.test', to: [{ address: 'a@mx.test' }] }, Buffer.from('body\n'));
  assert.equal(r2.data, null);
  assert.equal(plain.sessions[0]!.commands.includes('DATA'), false);
});

test('MAIL refused: every recipient carries the MAIL reply, nothing is sent after it without pipelining', async (t) => {
  const peer = await startScriptedPeer(t, {
    extensions: [],
    reply: (cmd) => (cmd.startsWith('MAIL') ? '550 5.7.1 sender rejected' : undefined),
  });
  const c = await connect(t, base(peer.port));
  const r = await c.send(
    { from: 's@sender.test', to: [{ address: 'a@mx.test' }, { address: 'b@mx.test' }] },
    Buffer.from('x'),
  );
  assert.equal(r.mail.code, 550);
  assert.deepEqual(
    r.rcpts.map((x) => x.code),
    [550, 550],
  );
  assert.equal(r.data, null);
  assert.equal(peer.sessions[0]!.commands.filter((x) => x.startsWith('RCPT')).length, 0);
});

test('SIZE: sent when offered; over the advertised limit the client answers 552 5.3.4 itself', async (t) => {
  const { port, got } = await receiver(t, { size: 1000 });
  const c = await connect(t, base(port));
  assert.equal(c.extensions.get('SIZE'), '1000');
  const big = await c.send({ from: 'a@sender.test', to: [{ address: 'b@mx.test' }], size: 5000 }, Buffer.alloc(10));
  assert.equal(big.mail.code, 552);
  assert.equal(big.mail.enhanced, '5.3.4');
  assert.match(big.mail.text, /message size exceeds fixed maximum message size/);
  assert.equal(big.rcpts[0]!.code, 552);
  assert.equal(big.data, null);
  const ok = await c.send(
    { from: 'a@sender.test', to: [{ address: 'b@mx.test' }], size: 20 },
    Buffer.from('Subject: s\n\nsmall\n'),
  );
  assert.equal(ok.data?.code, 250);
  assert.equal(got.length, 1);
  assert.equal((got[0]!.session.envelope.mailFrom as { args: Record<string, string> }).args.SIZE, '20');
});

test('SMTPUTF8: refused by the client (553 5.6.7) when not offered; sent when offered; BODY=8BITMIME', async (t) => {
  const off = await receiver(t, { hideSMTPUTF8: true });
  const c = await connect(t, base(off.port));
  const r = await c.send({ from: 'ü@sender.test', to: [{ address: 'b@mx.test' }], smtputf8: true }, Buffer.from('x\n'));
  assert.equal(r.mail.code, 553);
  assert.equal(r.mail.enhanced, '5.6.7');
  assert.equal(r.data, null);
  assert.equal(off.got.length, 0);
  await c.quit();

  const on = await receiver(t);
  const c2 = await connect(t, base(on.port));
  assert.ok(c2.extensions.has('SMTPUTF8'));
  const r2 = await c2.send(
    { from: 'jörg@sender.test', to: [{ address: 'b@mx.test' }], smtputf8: true, eightBitMime: true },
    Buffer.from('Subject: ü\n\nüber\n'),
  );
  assert.equal(r2.data?.code, 250);
  const env = on.got[0]!.session.envelope;
  assert.equal(env.mailFrom ? env.mailFrom.address : null, 'jörg@sender.test');
  const args = (env.mailFrom as { args: Record<string, string | boolean> }).args;
  assert.equal(args.SMTPUTF8, true);
  assert.equal(args.BODY, '8BITMIME');
});

test('DSN parameters (RET, ENVID, NOTIFY, ORCPT as xtext) are sent only when the server offers DSN', async (t) => {
  const envelope = {
    from: 'a@sender.test',
    to: [
      { address: 'b@mx.test', notify: 'SUCCESS,FAILURE', orcpt: 'rfc822;B+x=y@mx.test' },
      { address: 'c@mx.test', notify: 'NEVER' },
    ],
    ret: 'HDRS' as const,
    envid: 'id+1=2 x',
  };
  const dsn = await receiver(t, { hideDSN: false });
  const c = await connect(t, base(dsn.port));
  assert.ok(c.extensions.has('DSN'));
  assert.equal((await c.send(envelope, Buffer.from('x\n'))).data?.code, 250);
  const env = dsn.got[0]!.session.envelope as any;
  assert.equal(env.dsn.ret, 'HDRS');
  assert.equal(env.dsn.envid, 'id+1=2 x');
  assert.deepEqual(env.rcptTo[0].dsn.notify, ['SUCCESS', 'FAILURE']);
  assert.equal(env.rcptTo[0].dsn.orcpt, 'rfc822;B+x=y@mx.test');
  assert.deepEqual(env.rcptTo[1].dsn.notify, ['NEVER']);
  assert.equal(xtext('id+1=2 x'), 'id+2B1+3D2+20x');

  const plain = await receiver(t, { hideDSN: true });
  const c2 = await connect(t, base(plain.port));
  assert.equal(c2.extensions.has('DSN'), false);
  assert.equal((await c2.send(envelope, Buffer.from('x\n'))).data?.code, 250);
  const env2 = plain.got[0]!.session.envelope as any;
  // smtp-server records no parameters as `false`
  assert.equal(env2.mailFrom.args, false);
  assert.equal(env2.rcptTo[0].args, false);
});

test('421 and 554 greetings: kind greeting (554 permanent), QUIT sent', async (t) => {
  for (const [greeting, permanent] of [
    ['421 4.3.2 busy, try later', false],
    ['554 5.7.1 go away', true],
  ] as const) {
    const peer = await startScriptedPeer(t, { greeting });
    const err = await rejects(openSmtpConnection(base(peer.port)), 'greeting');
    assert.equal(err.permanent, permanent);
    assert.equal(err.reply?.code, Number(greeting.slice(0, 3)));
    assert.equal(err.reply?.enhanced, greeting.slice(4, 9));
    await waitFor(() => peer.sessions[0]!.commands.includes('QUIT'), 'QUIT after the greeting');
  }
});

const connectRaw = (port: number) => net.connect(port, '127.0.0.1');

async function waitFor(check: () => boolean, what: string, ms = 3000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('EHLO refused with 502: HELO, no extensions, one command at a time', async (t) => {
  const peer = await startScriptedPeer(t, {
    reply: (cmd) => (cmd.startsWith('EHLO') ? '502 5.5.2 no EHLO here' : undefined),
  });
  const c = await connect(t, base(peer.port));
  assert.equal(c.ehlo.code, 250);
  assert.equal(c.extensions.size, 0);
  assert.deepEqual(peer.sessions[0]!.commands, ['EHLO client.mailyard.test', 'HELO client.mailyard.test']);
  const r = await c.send({ from: 'a@sender.test', to: [{ address: 'b@mx.test' }] }, Buffer.from('x\n'));
  assert.equal(r.data?.code, 250);
});

test('a server that stops answering: timeout within the command timeout, and the connection is unusable', async (t) => {
  const peer = await startScriptedPeer(t, { reply: (cmd) => (cmd.startsWith('RCPT') ? 'silent' : undefined) });
  const c = await connect(t, base(peer.port, { commandTimeoutMs: 300 }));
  const t0 = Date.now();
  await rejects(c.send({ from: 'a@sender.test', to: [{ address: 'b@mx.test' }] }, Buffer.from('x\n')), 'timeout');
  const took = Date.now() - t0;
  assert.ok(took >= 280 && took < 2500, `took ${took} ms`);
  assert.equal(c.usable, false);
  await rejects(c.reset(), 'timeout');

  const mute = await startScriptedPeer(t, { greeting: null });
  await rejects(openSmtpConnection(base(mute.port, { commandTimeoutMs: 300 })), 'timeout');
});

test('a 421 then close during a pipelined transaction: kind closed, carrying the 421', async (t) => {
  const peer = await startScriptedPeer(t, {
    reply: (cmd, s) => {
      if (!cmd.startsWith('MAIL')) return undefined;
      s.sock.end('421 4.3.2 shutting down\r\n');
      return 'silent';
    },
  });
  const c = await connect(t, base(peer.port));
  const err = await rejects(
    c.send({ from: 'a@sender.test', to: [{ address: 'b@mx.test' }] }, Buffer.from('x\n')),
    'closed',
  );
  assert.equal(err.reply?.code, 421);
  assert.equal(err.reply?.enhanced, '4.3.2');
  assert.equal(err.permanent, false);
  assert.equal(c.usable, false);
});

test('a reply while idle (a 421 before the server closes): the next operation fails instead of reading it', async (t) => {
  const peer = await startScriptedPeer(t);
  const c = await connect(t, base(peer.port));
  peer.sessions[0]!.sock.write('421 4.4.2 idle too long\r\n');
  await waitFor(() => !c.usable, 'the connection to become unusable');
  const err = await rejects(c.reset(), 'protocol');
  assert.equal(err.reply?.code, 421);
});

test('a server that closes in the middle of DATA: kind closed', async (t) => {
  const peer = await startScriptedPeer(t, { closeAfterDataBytes: 100_000 });
  const c = await connect(t, base(peer.port));
  const file = join(tmpDir(t), 'big.eml');
  writeFileSync(file, Buffer.alloc(4 * 1024 * 1024, 'abcdefghij\n'));
  await rejects(c.send({ from: 'a@sender.test', to: [{ address: 'b@mx.test' }] }, file), 'closed');
  assert.equal(c.usable, false);
});

test('nothing listening: kind connect; malformed and oversized replies: kind protocol', async (t) => {
  const closedPort = await freePort();
  await rejects(openSmtpConnection(base(closedPort)), 'connect');
  const long = await startScriptedPeer(t, {
    reply: (cmd) => (cmd.startsWith('EHLO') ? `250 ${'x'.repeat(5000)}` : undefined),
  });
  await rejects(openSmtpConnection(base(long.port)), 'protocol');
  const many = await startScriptedPeer(t, {
    reply: (cmd) => (cmd.startsWith('EHLO') ? `${'250-X\r\n'.repeat(120)}250 end` : undefined),
  });
  await rejects(openSmtpConnection(base(many.port)), 'protocol');
  const junk = await startScriptedPeer(t, { greeting: 'hello there' });
  await rejects(openSmtpConnection(base(junk.port)), 'protocol');
});

/** A CA and a leaf for `name` signed by it, made with openssl. */
function makeCa(dir: string, name: string): { ca: string; key: string; cert: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Mailyard Test CA']);
  run(['req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${name}`]);
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=DNS:${name}\nextendedKeyUsage=serverAuth\n`);
  run([
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'leaf.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
  const r = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { ca: r('ca.pem'), key: r('leaf.key'), cert: r('leaf.pem') };
}

test('STARTTLS opportunistic with a self-signed certificate: used, reported as not authorized', async (t) => {
  const { key, cert } = await createSelfSigned('mx.test');
  const { port, got } = await receiver(t, { hideSTARTTLS: false, key, cert });
  const c = await connect(t, base(port, { tls: 'opportunistic' }));
  assert.ok(c.tls);
  assert.equal(c.tls.authorized, false);
  assert.ok(c.tls.authorizationError);
  assert.match(c.tls.version, /^TLSv1\.[23]$/);
  assert.ok(c.tls.cipher);
  assert.equal(c.extensions.has('STARTTLS'), false, 'extensions are those of the EHLO after STARTTLS');
  const r = await c.send({ from: 'a@sender.test', to: [{ address: 'b@mx.test' }] }, Buffer.from('over tls\n'));
  assert.equal(r.data?.code, 250);
  assert.equal(got[0]!.body.toString(), 'over tls\r\n');
  // required: the same certificate is refused
  await rejects(openSmtpConnection(base(port, { tls: 'required' })), 'tls');
  // none: no STARTTLS at all
  const plain = await connect(t, base(port, { tls: 'none' }));
  assert.equal(plain.tls, null);
});

test('STARTTLS with a certificate from a test CA: authorized for mx.test, refused in required mode for another name', async (t) => {
  const dir = tmpDir(t);
  const { ca, key, cert } = makeCa(dir, 'mx.test');
  const { port } = await receiver(t, { hideSTARTTLS: false, key, cert });
  const c = await connect(t, base(port, { tls: 'required', ca }));
  assert.equal(c.tls?.authorized, true);
  assert.equal(c.tls?.authorizationError, undefined);
  assert.equal(
    (await c.send({ from: 'a@sender.test', to: [{ address: 'b@mx.test' }] }, Buffer.from('x\n'))).data?.code,
    250,
  );
  const opp = await connect(t, base(port, { tls: 'opportunistic', ca, mxName: 'other.test' }));
  assert.equal(opp.tls?.authorized, false);
  assert.match(opp.tls?.authorizationError ?? '', /other\.test/);
  const err = await rejects(openSmtpConnection(base(port, { tls: 'required', ca, mxName: 'other.test' })), 'tls');
  assert.match(err.message, /other\.test/);
  // without the CA, the chain does not verify
  await rejects(openSmtpConnection(base(port, { tls: 'required' })), 'tls');
});

test('STARTTLS required but not offered: kind tls, QUIT sent', async (t) => {
  const peer = await startScriptedPeer(t);
  await rejects(openSmtpConnection(base(peer.port, { tls: 'required' })), 'tls');
  await waitFor(() => peer.sessions[0]!.commands.includes('QUIT'), 'QUIT');
  const opp = await connect(t, base(peer.port, { tls: 'opportunistic' }));
  assert.equal(opp.tls, null);
});

test('STARTTLS response injection: bytes after the 220 are a protocol error, nothing goes on in plain text', async (t) => {
  const peer = await startScriptedPeer(t, {
    extensions: ['PIPELINING', 'STARTTLS'],
    reply: (cmd) => (cmd === 'STARTTLS' ? '220 2.0.0 Ready\r\n250 injected' : undefined),
  });
  await rejects(openSmtpConnection(base(peer.port, { tls: 'opportunistic' })), 'protocol');
  await waitFor(() => peer.sessions[0]!.closed, 'the connection to close');
  assert.deepEqual(peer.sessions[0]!.commands, ['EHLO client.mailyard.test', 'STARTTLS']);
});

test('a connection the server never accepts: kind timeout after connectTimeoutMs', async (t) => {
  const bin = needTool(t, 'smtp-sink', 'postfix');
  if (!bin) return;
  // smtp-sink serving one session at a time with a listen backlog of 1: once a few connections fill the kernel's
  // accept queue, further SYNs are dropped and a connect hangs.
  const sink = await startSmtpSink(t, bin, ['-m', '1'], 1);
  const fillers: net.Socket[] = [];
  t.after(() => {
    for (const s of fillers) s.destroy();
  });
  for (let i = 0; i < 8; i++) {
    const s = connectRaw(sink.port);
    s.on('error', () => {});
    fillers.push(s);
  }
  // Three open: the one session smtp-sink serves (-m 1) and the two its accept queue holds (backlog 1 allows
  // backlog + 1). Fewer would leave a slot for the connection under test, which would then wait for a greeting.
  await waitFor(() => fillers.filter((s) => s.readyState === 'open').length >= 3, 'the accept queue to fill');
  const t0 = Date.now();
  const err = await rejects(openSmtpConnection(base(sink.port, { connectTimeoutMs: 300 })), 'timeout');
  assert.match(err.message, /no connection within 300 ms/);
  assert.ok(Date.now() - t0 < 2500);
});

test("Postfix's smtp-sink: 200 messages over one connection, RSET between, all acknowledged and dumped", async (t) => {
  const bin = needTool(t, 'smtp-sink', 'postfix');
  if (!bin) return;
  const dir = tmpDir(t);
  chmodSync(dir, 0o777); // smtp-sink writes as nobody when started as root
  const dump = join(dir, 'dump');
  const sink = await startSmtpSink(t, bin, ['-D', dump]);
  const c = await connect(t, base(sink.port));
  assert.ok(c.extensions.has('PIPELINING'));
  const file = join(dir, 'm.eml');
  writeFileSync(file, 'Subject: sink\n\n.hidden\nline\n');
  for (let i = 0; i < 200; i++) {
    if (i) await c.reset();
    const r = await c.send(
      { from: 'a@sender.test', to: [{ address: `r${i}@sink.test`, notify: 'NEVER' }], envid: `e${i}` },
      i % 2 ? file : Buffer.from(`Subject: ${i}\n\n..x\n`),
    );
    assert.equal(r.data?.code, 250, JSON.stringify(r));
  }
  assert.equal(c.transactions, 200);
  await c.quit();
  await sink.stop();
  const text = readFileSync(dump, 'latin1');
  assert.equal(text.match(/^X-Mail-Args: /gm)?.length, 200);
  assert.match(text, /^X-Rcpt-Args: <r199@sink\.test> NOTIFY=NEVER$/m);
  assert.match(text, /^X-Mail-Args: <a@sender\.test> ENVID=e199$/m);
  // smtp-sink undoes the dot-stuffing: the lines are as in the message
  assert.equal(text.match(/^\.\.x$/gm)?.length, 100);
  assert.equal(text.match(/^\.hidden$/gm)?.length, 100);
});
