// A remote MX for outbound tests: a real smtp-server on a free 127.0.0.1 port whose replies a test scripts (per
// recipient at RCPT, per message at DATA) and which records every message it accepted, byte for byte.
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface Received {
  from: string;
  to: string[];
  data: Buffer;
  secure: boolean;
  session: SMTPServerSession;
}

export interface RemoteMx {
  port: number;
  received: Received[];
  /** Every RCPT and DATA decision taken so far ("RCPT a@b 250", "DATA 451"). */
  log: string[];
  /** What RCPT TO answers for an address: a code (250 = accept), or `code text`. Default 250. */
  rcpt: (address: string) => number | string;
  /** What the end of DATA answers: default 250. */
  data: (n: number) => number | string;
  close(): Promise<void>;
}

const fail = (spec: number | string) => {
  const [code, ...rest] = String(spec).split(' ');
  const err = new Error(rest.join(' ') || `scripted ${code}`) as Error & { responseCode: number };
  err.responseCode = Number(code);
  return err;
};

export async function startRemoteMx(
  t: { after(fn: () => unknown): void },
  opts: { port?: number; key?: string | Buffer; cert?: string | Buffer; hideSTARTTLS?: boolean } = {},
): Promise<RemoteMx> {
  let dataCount = 0;
  const mx: RemoteMx = {
    port: 0,
    received: [],
    log: [],
    rcpt: () => 250,
    data: () => 250,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    hideSTARTTLS: opts.hideSTARTTLS ?? false,
    hideDSN: false,
    logger: false,
    ...(opts.key && { key: opts.key, cert: opts.cert }),
    onRcptTo(address, _session, cb) {
      const r = mx.rcpt(address.address);
      mx.log.push(`RCPT ${address.address} ${String(r).split(' ')[0]}`);
      if (String(r).startsWith('2')) return cb();
      cb(fail(r));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const r = mx.data(++dataCount);
        mx.log.push(`DATA ${String(r).split(' ')[0]}`);
        if (!String(r).startsWith('2')) return cb(fail(r));
        mx.received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((x) => x.address),
          data: Buffer.concat(chunks),
          secure: session.secure,
          session,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  mx.port = (server.server.address() as AddressInfo).port;
  t.after(() => mx.close());
  return mx;
}
