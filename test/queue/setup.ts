// An outbound test bed: a real DNS server (dnsmasq, NXDOMAIN for anything unpublished) whose MX records point
// remote domains at a scripted remote MX on 127.0.0.1 (test/helpers/remoteMx.ts), and a Mailyard whose
// smtp.outbound_port is that MX's port, with short retry intervals. example.com hosts bob and carol; the aliases
// fwd@ and team@ forward to remote addresses.
import type { TestContext } from 'node:test';
import { startDnsmasq } from '../helpers/dnsmasq.ts';
import { capturedLog } from '../helpers/logLines.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { type RemoteMx, startRemoteMx } from '../helpers/remoteMx.ts';
import { startTestServer } from '../helpers/server.ts';
import { ehlo } from '../helpers/smtp.ts';

export const REMOTE_DOMAINS = ['remote.example', 'sender.example', 'far.example'];

export async function outboundServer(
  t: TestContext,
  opts: {
    queue?: Record<string, unknown>;
    smtp?: Record<string, unknown>;
    dns?: string[];
    over?: Record<string, unknown>;
    mx?: RemoteMx;
  } = {},
) {
  const mx = opts.mx ?? (await startRemoteMx(t));
  const dns = await startDnsmasq(t, [
    'local=/#/',
    ...REMOTE_DOMAINS.flatMap((d) => [`mx-host=${d},mx.${d},10`, `host-record=mx.${d},127.0.0.1`]),
    ...(opts.dns ?? []),
  ]);
  if (!dns) throw new Error('dnsmasq is needed (dnsmasq-base)');
  const { log, lines } = capturedLog();
  const s = await startTestServer(
    t,
    {
      dns: { servers: [dns.server], timeout: 2 },
      smtp: { outbound_port: mx.port, ...opts.smtp },
      queue: { retry_schedule: [0.2], connect_timeout: 2, command_timeout: 5, mta_sts: false, ...opts.queue },
      ...opts.over,
    },
    { log: log },
  );
  const { domains, accounts } = s.app.services;
  await domains.create('test', 'example.com', true);
  for (const u of ['bob@example.com', 'carol@example.com']) await accounts.createUser('test', u, TEST_PASSWORD);
  accounts.createAlias('test', 'fwd@example.com', ['partner@remote.example']);
  accounts.createAlias('test', 'team@example.com', ['one@remote.example', 'two@remote.example', 'bob@example.com']);

  /** One message through the MX (loopback is a trusted network: no policy checks). */
  const send = async (from: string, to: string[], body: string) => {
    const c = await ehlo(s.ports.relay);
    try {
      return await c.send(from, to, body);
    } finally {
      c.close();
    }
  };
  const inbox = async (email: string) => {
    const { users, mailboxes, messages } = s.app.repos;
    const u = users.get(email)!;
    const box = mailboxes.get(u.id, 'INBOX')!;
    const rows = messages.rows(box.id, messages.uids(box.id));
    return Promise.all(rows.map(async (r) => (await s.app.mail.read(u, 'INBOX', r)).toString('utf8')));
  };
  const events = (types?: string[]) =>
    s.app.repos.deliveryEvents.list({ limit: 1000, ...(types && { types: types as never }) });
  const logged = (msg: string) => lines.filter((l) => l.msg === msg);
  return { ...s, mx, dns, send, inbox, events, logged, lines };
}
