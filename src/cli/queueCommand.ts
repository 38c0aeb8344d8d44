/**
 * `mailyard queue list|retry|delete`: the outbound queue from a shell. Rules: it opens the database named by the
 * config directly (as `migrate` does; the server may be running: WAL and the busy timeout make that safe) and
 * goes through the same queue service as the APIs (queue/admin.ts), audited as actor `cli`; a numeric argument
 * is a row id, anything else a queue id; exit 0 when something changed (or nothing needed to), 1 when the entry
 * does not exist or every selected entry was refused (being sent, or for retry not queued/deferred), 2 for usage.
 * A running server's queue worker sees a retry at its next scan (this process cannot wake it).
 */
import { closeDatabase, dbOptions, openDatabase } from '../db/client.ts';
import { createEventBus } from '../events/bus.ts';
import { createQueueAdmin } from '../queue/admin.ts';
import { queueEntryJson } from '../queue/entryJson.ts';
import { NotFoundError, ValidationError } from '../repos/errors.ts';
import { createRepos } from '../repos/index.ts';
import type { QueueChangeResult, QueueSelection, QueueStatus } from '../repos/queue.ts';
import { QUEUE_STATUSES, type QueueRow } from '../repos/rows.ts';
import { type CliIo, EXIT } from './io.ts';

export const QUEUE_USAGE =
  'mailyard queue list [--status S[,S]] [--domain D] [--limit N] [--json] | queue retry <id|queue-id|--all> | queue delete <id|queue-id>  [--config FILE]';

const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));

function table(rows: QueueRow[]): string {
  const head = ['ID', 'QUEUE ID', 'RECIPIENT', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT (UTC)', 'LAST ERROR'];
  const cells = rows.map((q) => [
    String(q.id),
    q.queue_id,
    q.recipient,
    q.status,
    String(q.attempts),
    q.status === 'queued' || q.status === 'deferred' ? time(q.next_attempt_at) : '-',
    q.last_error ? (q.last_error.length > 60 ? `${q.last_error.slice(0, 59)}…` : q.last_error) : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[head, ...cells].map(line).join('\n')}\n`;
}

function report(io: CliIo, verb: string, r: QueueChangeResult): number {
  io.out(`${verb} ${r.affected} ${r.affected === 1 ? 'entry' : 'entries'}\n`);
  for (const q of r.refused) io.err(`refused: ${q.id} (${q.queue_id} to ${q.recipient}) is ${q.status}\n`);
  return r.affected === 0 && r.refused.length > 0 ? EXIT.failure : EXIT.ok;
}

/** Runs a queue subcommand against the database of `config`. */
export async function runQueueCommand(
  io: CliIo,
  config: Parameters<typeof dbOptions>[0],
  values: Record<string, string | boolean | undefined>,
  positionals: string[],
): Promise<number> {
  const [sub, target] = positionals;
  const usage = (msg: string) => {
    io.err(`mailyard queue: ${msg}\nusage: ${QUEUE_USAGE}\n`);
    return EXIT.usage;
  };
  if (sub !== 'list' && sub !== 'retry' && sub !== 'delete') return usage('expected "list", "retry" or "delete"');
  if (sub === 'list' && target !== undefined) return usage(`unexpected argument "${target}"`);
  if (sub !== 'list' && (values.status !== undefined || values.domain !== undefined || values.json || values.limit))
    return usage('--status, --domain, --limit and --json go with "list"');
  if (sub !== 'retry' && values.all) return usage('--all goes with "retry"');
  if (sub !== 'list' && (target === undefined) === !values.all)
    return usage(sub === 'retry' ? 'name an entry id, a queue id, or --all' : 'name an entry id or a queue id');
  const statuses = String(values.status ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const badStatus = statuses.find((s) => !(QUEUE_STATUSES as readonly string[]).includes(s));
  if (badStatus) return usage(`unknown status "${badStatus}" (one of ${QUEUE_STATUSES.join(', ')})`);
  const limit = values.limit === undefined ? 1000 : Number(values.limit);
  if (!Number.isSafeInteger(limit) || limit < 1) return usage('--limit must be a positive whole number');

  const db = openDatabase(dbOptions(config));
  try {
    const repos = createRepos(db, createEventBus());
    if (sub === 'list') {
      const filter = {
        statuses: statuses.length ? (statuses as QueueStatus[]) : undefined,
        domain: (values.domain as string | undefined) || undefined,
      };
      const rows: QueueRow[] = [];
      for (let after = 0; rows.length < limit; ) {
        const page = repos.queue.list({ ...filter, after, limit: Math.min(500, limit - rows.length) });
        rows.push(...page);
        if (page.length === 0) break;
        after = page[page.length - 1]!.id;
      }
      if (values.json) {
        io.out(`${JSON.stringify(rows.map(queueEntryJson), null, 2)}\n`);
        return EXIT.ok;
      }
      const total = repos.queue.count(filter);
      if (rows.length === 0) io.out('the queue is empty\n');
      else io.out(table(rows));
      if (total > rows.length) io.err(`(${rows.length} of ${total} shown; --limit N for more)\n`);
      return EXIT.ok;
    }
    const admin = createQueueAdmin(repos, {
      warn: (obj, msg) => io.err(`warning: ${msg} ${JSON.stringify(obj)}\n`),
    });
    const sel: QueueSelection = values.all
      ? { all: true }
      : /^\d+$/.test(target!)
        ? { ids: [Number(target)] }
        : { queueId: target! };
    try {
      if (sub === 'retry') return report(io, 'retried', admin.retry('cli', sel));
      return report(io, 'deleted', await admin.delete('cli', sel as { ids: number[] } | { queueId: string }));
    } catch (e) {
      if (e instanceof NotFoundError) {
        io.err(`mailyard queue: ${e.message}\n`);
        return EXIT.failure;
      }
      if (e instanceof ValidationError) return usage(e.message);
      throw e;
    }
  } finally {
    closeDatabase(db);
  }
}
