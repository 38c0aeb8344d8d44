/**
 * The outbound queue's delivery worker. Rules: rows due now are loaded in batches, grouped per message and
 * destination domain (one SMTP transaction for all recipients of a message at one domain), and started while
 * fewer than queue.max_concurrency deliveries run in all and fewer than queue.destination_concurrency to that
 * domain; a row is claimed (`sending`) before it is sent and settled right after the reply (repos/queueDelivery.ts);
 * a temporary failure is retried per queue.retry_schedule until the message is queue.max_age_days old, then it
 * bounces; bounces, delay notices and relay notices go to the sender (notices.ts); every attempt is a
 * DELIVERY_ATTEMPT event and its result DELIVERED_REMOTE, DEFERRED or BOUNCED; a spool file is removed once no row
 * still needs it. New rows wake the worker at once (the `queue.changed` event); otherwise it sleeps until the next
 * row falls due. At start, rows a crash left `sending` are queued again (at-least-once delivery). With queue.hold
 * nothing is sent (the rows wait).
 */
import type { Config } from '../config/load.ts';
import type { Resolver } from '../dns/resolver.ts';
import type { EventBus } from '../events/bus.ts';
import type { Logger } from '../log/logger.ts';
import type { NewDeliveryEvent } from '../repos/deliveryEvents.ts';
import type { QueueDeliveryRepo, Settlement } from '../repos/queueDelivery.ts';
import type { QueueRow } from '../repos/rows.ts';
import type { Directory } from '../smtp/recipients.ts';
import type { MailStore } from '../store/mailStore.ts';
import { type ConnectionCache, createConnectionCache } from './connectionCache.ts';
import type { MtaSts } from './mtaSts.ts';
import { type NoticeKind, sendNotice, wants } from './notices.ts';
import { type Attempt, local } from './reply.ts';
import { retryDelayMs } from './retry.ts';
import { removeUnreferenced } from './spoolFiles.ts';
import { transfer } from './transfer.ts';

export interface WorkerDeps {
  config: Config;
  repos: { queueDelivery: QueueDeliveryRepo } & Directory;
  mail: MailStore;
  dns: Resolver;
  bus: EventBus;
  log: Logger;
  mtaSts: MtaSts | null;
  /** Extra CA certificates (PEM) for remote MX certificates (queue.tls_ca_file). */
  ca?: string;
  now?: () => number;
}

interface Group {
  key: string;
  domain: string;
  rows: QueueRow[];
}

const BATCH = 2000;
const LOW_WATER = 500;
const MAX_SLEEP_MS = 60_000;

export function createQueueWorker(deps: WorkerDeps) {
  const { config, repos, log } = deps;
  const now = deps.now ?? Date.now;
  const q = repos.queueDelivery;
  const cache: ConnectionCache = createConnectionCache({
    idleMs: config.queue.connection_cache_time * 1000,
    maxIdlePerKey: config.queue.destination_concurrency,
  });
  const ready = new Map<string, Group[]>();
  let readyRows = 0;
  const known = new Set<number>();
  const perDomain = new Map<string, number>();
  let active = 0;
  let dirty = true;
  let scheduled = false;
  let timer: NodeJS.Timeout | null = null;
  let stopping = false;
  const running = new Set<Promise<void>>();
  let unsubscribe: (() => void) | null = null;

  function kick(): void {
    if (scheduled || stopping) return;
    scheduled = true;
    setImmediate(pump);
  }

  function refill(): void {
    dirty = false;
    const rows = q.due(now(), BATCH);
    const groups = new Map<string, Group>();
    for (const r of rows) {
      if (known.has(r.id)) continue;
      known.add(r.id);
      const key = `${r.queue_id}\0${r.recipient_domain}`;
      let g = groups.get(key);
      if (!g) {
        g = { key, domain: r.recipient_domain, rows: [] };
        groups.set(key, g);
        const list = ready.get(g.domain);
        if (list) list.push(g);
        else ready.set(g.domain, [g]);
      }
      g.rows.push(r);
      readyRows++;
    }
  }

  function pump(): void {
    scheduled = false;
    if (stopping) return;
    try {
      dispatch();
    } catch (err) {
      // The database went away (shutting down, a disk error): never an uncaught exception; try again later.
      log.error({ err }, 'outbound queue scan failed');
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        dirty = true;
        kick();
      }, 5000);
      timer.unref();
    }
  }

  function dispatch(): void {
    if (readyRows < LOW_WATER && dirty) refill();
    for (const [domain, list] of ready) {
      while (list.length && active < config.queue.max_concurrency) {
        if ((perDomain.get(domain) ?? 0) >= config.queue.destination_concurrency) break;
        start(list.shift()!);
      }
      if (!list.length) ready.delete(domain);
      if (active >= config.queue.max_concurrency) break;
    }
    sleep();
  }

  /** Wakes up when the next row falls due (rows deferred for later, or nothing to do now). */
  function sleep(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (stopping) return;
    let wait: number;
    if (readyRows > 0 || active > 0) wait = MAX_SLEEP_MS;
    else {
      const next = q.nextDueAt();
      if (next === null) return;
      wait = Math.max(0, next - now());
    }
    timer = setTimeout(
      () => {
        timer = null;
        dirty = true;
        kick();
      },
      Math.min(wait, MAX_SLEEP_MS),
    );
    timer.unref();
  }

  function start(g: Group): void {
    readyRows -= g.rows.length;
    const claimed = q.claim(g.rows.map((r) => r.id));
    const rows = g.rows.filter((r) => claimed.has(r.id));
    for (const r of g.rows) if (!claimed.has(r.id)) known.delete(r.id);
    if (!rows.length) return;
    active++;
    perDomain.set(g.domain, (perDomain.get(g.domain) ?? 0) + 1);
    const p = deliver(g.domain, rows)
      .catch((err) => log.error({ err, queueId: rows[0]!.queue_id }, 'outbound delivery failed'))
      .finally(() => {
        active--;
        const n = (perDomain.get(g.domain) ?? 1) - 1;
        if (n <= 0) perDomain.delete(g.domain);
        else perDomain.set(g.domain, n);
        for (const r of rows) known.delete(r.id);
        running.delete(p);
        kick();
      });
    running.add(p);
  }

  async function deliver(domain: string, rows: QueueRow[]): Promise<void> {
    let result: Awaited<ReturnType<typeof transfer>>;
    try {
      result = await transfer({ config, dns: deps.dns, mtaSts: deps.mtaSts, cache, ca: deps.ca, log }, domain, rows);
    } catch (err) {
      log.error({ err, domain, queueId: rows[0]!.queue_id }, 'outbound attempt failed');
      const a = local('deferred', '4.3.0', `451 4.3.0 local error: ${(err as Error).message}`);
      result = { outcomes: new Map(rows.map((r) => [r.id, a])), mx: null, ip: null, tls: null, dsn: false };
    }
    await settle(domain, rows, result);
  }

  async function settle(domain: string, rows: QueueRow[], result: Awaited<ReturnType<typeof transfer>>) {
    const t = now();
    const first = rows[0]!;
    const settlements: Settlement[] = [];
    const notices: Record<NoticeKind, { row: QueueRow; attempt: Attempt }[]> = { failed: [], delayed: [], relayed: [] };
    const by: Record<'delivered' | 'deferred' | 'bounced', { row: QueueRow; attempt: Attempt }[]> = {
      delivered: [],
      deferred: [],
      bounced: [],
    };
    let nextAt = 0;
    for (const row of rows) {
      let attempt = result.outcomes.get(row.id) ?? local('deferred', '4.4.1', '451 4.4.1 no outcome');
      if (attempt.verdict === 'deferred' && t >= row.expires_at) {
        const days = Math.round((row.expires_at - row.created_at) / 86_400_000);
        attempt = {
          ...attempt,
          verdict: 'bounced',
          status: '4.4.7',
          text: `message expired after ${days} days: ${attempt.text}`,
        };
      }
      by[attempt.verdict].push({ row, attempt });
      const base = { id: row.id, code: attempt.code, reply: attempt.text, mx: attempt.mx };
      if (attempt.verdict === 'deferred') {
        const next = Math.min(t + retryDelayMs(row.attempts + 1, config.queue.retry_schedule), row.expires_at);
        nextAt = next;
        const warnAfter = config.queue.delay_warning_hours * 3_600_000;
        const delayNotice =
          warnAfter > 0 && row.delay_notified_at === null && t - row.created_at >= warnAfter && wants(row, 'delayed');
        if (delayNotice) notices.delayed.push({ row, attempt });
        settlements.push({
          ...base,
          status: 'deferred',
          nextAttemptAt: next,
          attempted: true,
          delayNotified: delayNotice,
        });
      } else if (attempt.verdict === 'bounced') {
        if (wants(row, 'failed')) notices.failed.push({ row, attempt });
        settlements.push({ ...base, status: 'bounced' });
      } else {
        if (!result.dsn && wants(row, 'relayed')) notices.relayed.push({ row, attempt });
        settlements.push({ ...base, status: 'delivered' });
      }
    }
    const event = (type: NewDeliveryEvent['type'], list: { row: QueueRow; attempt: Attempt }[], details = {}) => ({
      type,
      messageId: null,
      queueId: first.queue_id,
      sender: first.sender,
      recipients: list.map((x) => x.row.recipient),
      domain,
      userEmail: null,
      remoteIp: result.ip,
      reason: type === 'DELIVERED_REMOTE' ? null : (list[0]?.attempt.text ?? null),
      details: { mx: result.mx, ...details },
    });
    const events: NewDeliveryEvent[] = [
      event('DELIVERY_ATTEMPT', [...by.delivered, ...by.deferred, ...by.bounced], {
        tls: result.tls,
        replies: Object.fromEntries(rows.map((r) => [r.recipient, result.outcomes.get(r.id)?.text ?? null])),
        attempt: first.attempts + 1,
      }),
      ...(by.delivered.length
        ? [event('DELIVERED_REMOTE', by.delivered, { reply: by.delivered[0]!.attempt.text })]
        : []),
      ...(by.deferred.length ? [event('DEFERRED', by.deferred, { nextAttemptAt: nextAt })] : []),
      ...(by.bounced.length ? [event('BOUNCED', by.bounced, { status: by.bounced[0]!.attempt.status })] : []),
    ];
    q.settle(first.queue_id, settlements, events, t);
    for (const [verdict, list] of Object.entries(by))
      if (list.length)
        log.info(
          {
            queueId: first.queue_id,
            from: first.sender,
            to: list.map((x) => x.row.recipient),
            mx: result.mx,
            ip: result.ip,
            reply: list[0]!.attempt.text,
          },
          verdict === 'delivered'
            ? 'message delivered remotely'
            : verdict === 'deferred'
              ? 'delivery deferred'
              : 'message bounced',
        );
    const noticeDeps = { config, mail: deps.mail, directory: repos, log };
    for (const kind of ['failed', 'delayed', 'relayed'] as const) {
      if (!notices[kind].length) continue;
      try {
        await sendNotice(noticeDeps, kind, notices[kind], kind === 'delayed' ? new Date(first.expires_at) : undefined);
      } catch (err) {
        log.error({ err, queueId: first.queue_id, kind }, 'delivery status notification failed');
      }
    }
    if (by.delivered.length + by.bounced.length > 0 && q.pendingFor(first.spool_file) === 0)
      removeUnreferenced([first.spool_file], log);
  }

  return {
    start(): void {
      if (config.queue.hold) {
        log.warn('queue.hold is set: outbound mail is queued, not sent');
        return;
      }
      const recovered = q.recoverInterrupted(now());
      if (recovered) log.warn({ rows: recovered }, 'outbound deliveries interrupted by a restart are queued again');
      unsubscribe = deps.bus.subscribe('queue.changed', (e) => {
        if (e.status === 'queued') {
          dirty = true;
          kick();
        }
      });
      kick();
    },
    /** Deliveries in progress, and groups loaded and waiting. */
    stats: () => ({ active, ready: readyRows, cached: cache.size }),
    /** Stops starting deliveries, waits up to `graceMs` for those in progress, closes cached connections. */
    async stop(graceMs = 5000): Promise<void> {
      stopping = true;
      unsubscribe?.();
      if (timer) clearTimeout(timer);
      const all = Promise.allSettled([...running]);
      await Promise.race([all, new Promise((r) => setTimeout(r, graceMs).unref())]);
      await cache.closeAll();
    },
  };
}

export type QueueWorker = ReturnType<typeof createQueueWorker>;
