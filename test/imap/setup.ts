// An IMAP test server: the SMTP test server (example.com: bob, carol; other.example: dave; TEST_PASSWORD) plus
// helpers to deliver mail over real SMTP and to open raw IMAP connections.
import type { Topics } from '../../src/events/topics.ts';
import { RawImap } from '../helpers/imap.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { message, RawSmtp } from '../helpers/smtp.ts';
import { mailServer } from '../smtp/setup.ts';

export async function imapServer(t: { after(fn: () => unknown): void }, over: Record<string, unknown> = {}) {
  const s = await mailServer(t, over);
  const clients: RawImap[] = [];
  t.after(() => {
    for (const c of clients) c.close();
  });
  const raw = async (opts: { tls?: boolean; login?: string } = {}) => {
    const c = await RawImap.connect(opts.tls ? s.ports.imaps : s.ports.imap, { tls: opts.tls });
    clients.push(c);
    if (opts.login) await c.login(opts.login, TEST_PASSWORD);
    return c;
  };
  /** Delivers a message over SMTP (MX port) and resolves after the 250. */
  const deliver = async (to: string | string[], body: string | Buffer = message('hello')) => {
    const c = await RawSmtp.connect(s.ports.relay);
    try {
      await c.reply();
      await c.cmd('EHLO test.example');
      const r = await c.send('sender@remote.example', Array.isArray(to) ? to : [to], body);
      if (r.data?.code !== 250) throw new Error(`delivery failed: ${JSON.stringify(r)}`);
      await c.cmd('QUIT').catch(() => {});
    } finally {
      c.socket.destroy();
    }
  };
  /**
   * Resolves with the next `mailbox.changed` event of `kind` (subscribe before the action that causes it). The
   * IMAP hub subscribed at start-up, before this, and the bus calls listeners in order: when this resolves, every
   * session with the mailbox selected has been handed the change.
   */
  const nextChange = (kind: Topics['mailbox.changed']['kind'], timeoutMs = 10_000) =>
    new Promise<Topics['mailbox.changed']>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no mailbox.changed ${kind} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = s.app.bus.subscribe('mailbox.changed', (c) => {
        if (c.kind !== kind) return;
        off();
        clearTimeout(timer);
        resolve(c);
      });
    });
  return { ...s, raw, deliver, nextChange };
}
