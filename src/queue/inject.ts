/**
 * Mail Mailyard writes itself (delivery status notifications) enters through here, with the null sender (RFC
 * 5321 4.5.5: a notification is never answered by another). Rules: a recipient in a hosted domain gets it through
 * the same store path as inbound mail (into the INBOX, durable and indexed before this resolves); any other goes
 * into the outbound queue (origin `dsn`, no DSN of its own); an address that resolves to nothing is dropped with a
 * log line (there is no one to tell).
 */
import { Readable } from 'node:stream';
import type { Config } from '../config/load.ts';
import type { Logger } from '../log/logger.ts';
import type { NewDeliveryEvent } from '../repos/deliveryEvents.ts';
import { type Directory, resolveRecipient } from '../smtp/recipients.ts';
import type { MailStore, StoreTarget } from '../store/mailStore.ts';

export interface InjectDeps {
  config: Config;
  mail: MailStore;
  directory: Directory & { domains: Directory['domains'] };
  log: Logger;
}

export async function injectNotice(
  deps: InjectDeps,
  opts: { to: string; message: Buffer; queueId: string; reason: string },
): Promise<'local' | 'queued' | 'dropped'> {
  const { mail, log } = deps;
  const to = opts.to;
  const domain = to.slice(to.lastIndexOf('@') + 1).toLowerCase();
  const hosted = !!deps.directory.domains.get(domain);
  let targets: StoreTarget[] = [];
  let remote: string[] = [];
  if (hosted) {
    const r = resolveRecipient(deps.directory, to);
    if (!r.ok) {
      log.warn({ to, queueId: opts.queueId, reason: r.reply.reason }, 'notification dropped: no such recipient');
      return 'dropped';
    }
    targets = r.local.map((t) => ({
      userId: t.user.id,
      email: t.user.email,
      mailboxId: t.user.inboxId,
      mailboxName: 'INBOX',
    }));
    remote = r.remote;
  } else remote = [to];
  const first = targets[0];
  const spooled = await mail.spool(
    Buffer.alloc(0),
    Readable.from([opts.message]),
    Number.MAX_SAFE_INTEGER,
    first && { email: first.email, mailboxName: first.mailboxName },
  );
  const base = {
    messageId: spooled.headers.messageId,
    queueId: opts.queueId,
    sender: '',
    remoteIp: null,
    reason: null,
  };
  const events: NewDeliveryEvent[] = [
    ...targets.map((t) => ({
      ...base,
      type: 'DELIVERED_LOCAL' as const,
      recipients: [t.email],
      domain: t.email.split('@')[1]!,
      userEmail: t.email,
      details: { size: spooled.size, notice: opts.reason },
    })),
    ...(remote.length
      ? [
          {
            ...base,
            type: 'QUEUED' as const,
            recipients: remote,
            domain,
            userEmail: null,
            details: { origin: 'dsn', notice: opts.reason },
          },
        ]
      : []),
  ];
  try {
    await mail.deliver(
      spooled,
      targets,
      events,
      remote.map((r) => ({
        queue_id: opts.queueId,
        sender: '',
        recipient: r,
        recipient_domain: r.slice(r.lastIndexOf('@') + 1).toLowerCase(),
        origin: 'dsn' as const,
        dsn_to: null,
        expires_at: Date.now() + deps.config.queue.max_age_days * 86_400_000,
      })),
    );
  } catch (err) {
    mail.discard(spooled);
    throw err;
  }
  return targets.length ? 'local' : 'queued';
}
