// A server for policy tests: example.com (bob, carol) and other.example (dave), loopback NOT trusted (every check
// applies to the test client), the policy clock under the test's control, log lines captured, and a helper that
// changes a domain's security settings through the REST API (as an admin would: the change must apply to the next
// transaction without a restart).
import type { TestContext } from 'node:test';
import { startDnsmasq } from '../../helpers/dnsmasq.ts';
import { capturedLog } from '../../helpers/logLines.ts';
import { TEST_PASSWORD } from '../../helpers/password.ts';
import { startTestServer } from '../../helpers/server.ts';
import { ehlo, message, type RawSmtp } from '../../helpers/smtp.ts';

export interface Clock {
  now: number;
}

export async function policyServer(
  t: TestContext,
  opts: {
    over?: Record<string, unknown>;
    clock?: Clock;
    dir?: string;
    security?: Record<string, unknown>;
    /** dnsmasq.conf record lines for the DNS server the server's resolver uses (none: every name is NXDOMAIN). */
    dns?: string[];
  } = {},
) {
  // local=/#/: every name it has no record for is NXDOMAIN (authoritative), never forwarded.
  const dns = await startDnsmasq(t, ['local=/#/', ...(opts.dns ?? [])]);
  if (!dns) throw new Error('dnsmasq is needed (dnsmasq-base)');
  const clock = opts.clock ?? { now: Date.UTC(2026, 11, 2, 12) };
  const { log, lines } = capturedLog();
  const s = await startTestServer(
    t,
    { smtp: { trusted_networks: [] }, dns: { servers: [dns.server] }, ...opts.over },
    { now: () => clock.now, dir: opts.dir, log: log },
  );
  const { domains, accounts } = s.app.services;
  if (!s.app.repos.domains.get('example.com')) {
    await domains.create('test', 'example.com', true);
    await domains.create('test', 'other.example', true);
    for (const u of ['bob@example.com', 'carol@example.com', 'dave@other.example'])
      await accounts.createUser('test', u, TEST_PASSWORD);
  }
  const security = async (domain: string, sections: Record<string, unknown>) => {
    const res = await fetch(`${s.api}/api/domains/${domain}/security`, {
      method: 'PUT',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify(sections),
    });
    if (!res.ok) throw new Error(`PUT security ${domain}: ${res.status} ${await res.text()}`);
  };
  // No scanners run in these tests unless a test starts them: off, so that the defaults do not try clamd/spamd.
  for (const d of ['example.com', 'other.example'])
    await security(d, { clamav: { enabled: false }, spam: { enabled: false }, ...opts.security });
  const clients: RawSmtp[] = [];
  t.after(() => {
    for (const c of clients) c.close();
  });
  const client = async () => {
    const c = await ehlo(s.ports.relay);
    clients.push(c);
    return c;
  };
  /** One message in its own session; returns "code enhanced" of the RCPT replies and of the DATA reply. */
  const send = async (from: string, to: string[], body: string | Buffer = message('policy test')) => {
    const c = await client();
    const r = await c.send(from, to, body);
    c.close();
    const short = (x: { code: number; text: string } | null) => (x ? `${x.code} ${x.text.slice(0, 6).trim()}` : null);
    return { rcpt: r.rcpt.map(short), data: short(r.data), raw: r };
  };
  const logged = (msg: string) => lines.filter((l) => l.msg === msg);
  /** A user's folder (INBOX by default): its rows and the files' contents. */
  const inbox = (email: string, folder = 'INBOX') => {
    const { users, mailboxes, messages } = s.app.repos;
    const u = users.get(email)!;
    const box = mailboxes.get(u.id, folder)!;
    return { user: u, box, rows: messages.rows(box.id, messages.uids(box.id)) };
  };
  /** The stored messages of a user's folder, as text. */
  const texts = async (email: string, folder = 'INBOX') => {
    const { user, rows } = inbox(email, folder);
    return Promise.all(rows.map(async (r) => (await s.app.mail.read(user, folder, r)).toString('latin1')));
  };
  return { ...s, clock, security, client, send, logged, lines, inbox, texts };
}
