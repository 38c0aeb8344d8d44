/**
 * /api/queue: the outbound queue for curl. GET lists entries (?status=a,b&domain=&sender=&recipient=&queue_id=
 * &limit=&after=, paged by row id: pass `next_after` back as `after`), GET /summary, GET /{id}; POST /retry with
 * {ids}|{queue_id}|{all: true} or POST /{id}/retry; DELETE /{id} or DELETE ?queue_id=. Rules: the same queue
 * service as GraphQL (queue/admin.ts); a bad parameter is a 400 naming it; an unknown id or queue id is a 404 and
 * changes nothing; when every selected entry was refused (being sent, or for retry not queued/deferred) the
 * answer is 409 with the same report; times are epoch milliseconds, as elsewhere in this API; admin-only.
 */
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http/server.ts';
import { queueEntryJson } from '../queue/entryJson.ts';
import { queueSelection } from '../queue/selection.ts';
import type { QueueChangeResult, QueueFilter, QueueStatus } from '../repos/queue.ts';
import { QUEUE_STATUSES } from '../repos/rows.ts';
import type { RestContext } from './context.ts';
import {
  type Access,
  badRequest,
  type FieldProblem,
  jsonObject,
  type RestRoute,
  readJson,
  route,
  sendError,
} from './http.ts';

export const QUEUE_LIST_MAX = 1000;
const ADMIN: Access = { who: 'admin' };

const reportJson = (r: QueueChangeResult) => ({
  affected: r.affected,
  refused: r.refused.map((q) => ({ id: q.id, queue_id: q.queue_id, recipient: q.recipient, status: q.status })),
});

/** 200 with the report, or 409 (same report) when nothing changed because every selected entry was refused. */
function sendReport(res: ServerResponse, r: QueueChangeResult, verb: string) {
  if (r.affected === 0 && r.refused.length > 0) {
    const why = r.refused.every((q) => q.status === 'sending')
      ? 'being sent right now; try again in a moment'
      : `${[...new Set(r.refused.map((q) => q.status))].join(', ')}`;
    return sendJson(res, 409, {
      error: 'conflict',
      message: `nothing to ${verb}: the selected queue entries are ${why}`,
      ...reportJson(r),
    });
  }
  sendJson(res, 200, reportJson(r));
}

const positiveInt = (v: string) => (/^\d{1,15}$/.test(v) && Number(v) > 0 ? Number(v) : undefined);

function rowId(raw: string): number {
  const id = positiveInt(raw);
  if (id === undefined) throw badRequest([{ field: 'id', message: 'must be a queue entry id (a positive integer)' }]);
  return id;
}

/** The list filter and page from the query string; every bad parameter is named. */
function listQuery(url: URL): QueueFilter & { limit: number; after: number } {
  const q = url.searchParams;
  const problems: FieldProblem[] = [];
  const statuses = q
    .getAll('status')
    .flatMap((s) => s.split(','))
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const s of statuses)
    if (!(QUEUE_STATUSES as readonly string[]).includes(s))
      problems.push({ field: 'status', message: `"${s}" is not one of ${QUEUE_STATUSES.join(', ')}` });
  let limit = 100;
  if (q.has('limit')) {
    const n = positiveInt(q.get('limit')!);
    if (n === undefined || n > QUEUE_LIST_MAX)
      problems.push({ field: 'limit', message: `must be a whole number from 1 to ${QUEUE_LIST_MAX}` });
    else limit = n;
  }
  let after = 0;
  if (q.has('after')) {
    const raw = q.get('after')!;
    const n = raw === '0' ? 0 : positiveInt(raw);
    if (n === undefined) problems.push({ field: 'after', message: 'must be a queue entry id (0 or more)' });
    else after = n;
  }
  for (const k of q.keys())
    if (!['status', 'domain', 'sender', 'recipient', 'queue_id', 'limit', 'after'].includes(k))
      problems.push({ field: k, message: 'is not a parameter of this endpoint' });
  if (problems.length) throw badRequest(problems);
  return {
    statuses: statuses.length ? (statuses as QueueStatus[]) : undefined,
    domain: q.get('domain') || undefined,
    sender: q.get('sender') || undefined,
    recipient: q.get('recipient') || undefined,
    queueId: q.get('queue_id') || undefined,
    limit,
    after,
  };
}

const REST_FIELDS = { ids: 'ids', queueId: 'queue_id', all: 'all' };
const restField = (p: (string | number)[]) => p.join('.') || '(body)';

export function queueRoutes(ctx: RestContext): RestRoute[] {
  const { repos, queue } = ctx.services;
  return [
    route(
      'GET',
      '/api/queue',
      'List queue entries (?status=queued,deferred&domain=&sender=&recipient=&queue_id=&limit=&after=).',
      ADMIN,
      (_req, res, _p, url) => {
        try {
          const { limit, after, ...filter } = listQuery(url);
          const rows = repos.queue.list({ ...filter, after, limit: limit + 1 });
          const page = rows.slice(0, limit);
          sendJson(res, 200, {
            entries: page.map(queueEntryJson),
            total: repos.queue.count(filter),
            next_after: rows.length > limit ? page[page.length - 1]!.id : null,
          });
        } catch (e) {
          if (!sendError(res, e)) throw e;
        }
      },
    ),
    route(
      'GET',
      '/api/queue/summary',
      'Entries queued, deferred, being sent; the oldest one’s age.',
      ADMIN,
      (_q, res) => {
        const s = repos.queue.summary();
        sendJson(res, 200, {
          queued: s.queued,
          deferred: s.deferred,
          sending: s.sending,
          oldest_at: s.oldestAt,
          oldest_age_seconds: s.oldestAt === null ? null : Math.max(0, Math.floor((Date.now() - s.oldestAt) / 1000)),
        });
      },
    ),
    route('GET', '/api/queue/{id}', 'Show one queue entry.', ADMIN, (_req, res, p) => {
      try {
        const row = repos.queue.get(rowId(p.id!));
        if (!row) return sendJson(res, 404, { error: 'not_found', message: `queue entry "${p.id}" not found` });
        sendJson(res, 200, queueEntryJson(row));
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route(
      'POST',
      '/api/queue/retry',
      'Make queued or deferred entries due now: {"ids": [..]} | {"queue_id": ".."} | {"all": true}.',
      ADMIN,
      async (req, res) => {
        try {
          const body = jsonObject(await readJson(req));
          const problems: FieldProblem[] = [];
          for (const k of Object.keys(body))
            if (!['ids', 'queue_id', 'all'].includes(k))
              problems.push({ field: k, message: 'is not a field of this request' });
          if (body.ids !== undefined && !Array.isArray(body.ids))
            problems.push({ field: 'ids', message: 'must be a list of queue entry ids' });
          if (body.queue_id !== undefined && typeof body.queue_id !== 'string')
            problems.push({ field: 'queue_id', message: 'must be a string' });
          if (body.all !== undefined && typeof body.all !== 'boolean')
            problems.push({ field: 'all', message: 'must be true or false' });
          if (problems.length) throw badRequest(problems);
          const sel = queueSelection(
            {
              ids: body.ids as (number | string)[] | undefined,
              queueId: body.queue_id as string | undefined,
              all: body.all as boolean | undefined,
            },
            { allowAll: true, fields: REST_FIELDS },
          );
          sendReport(res, queue.retry(ctx.actor(req), sel), 'retry');
        } catch (e) {
          if (!sendError(res, e, restField)) throw e;
        }
      },
    ),
    route('POST', '/api/queue/{id}/retry', 'Make one queued or deferred entry due now.', ADMIN, (req, res, p) => {
      try {
        sendReport(res, queue.retry(ctx.actor(req), { ids: [rowId(p.id!)] }), 'retry');
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route(
      'DELETE',
      '/api/queue/{id}',
      'Remove one entry (no bounce); 409 while it is being sent.',
      ADMIN,
      async (req, res, p) => {
        try {
          sendReport(res, await queue.delete(ctx.actor(req), { ids: [rowId(p.id!)] }), 'delete');
        } catch (e) {
          if (!sendError(res, e)) throw e;
        }
      },
    ),
    route(
      'DELETE',
      '/api/queue',
      'Remove every recipient of a message (?queue_id=); entries being sent are refused.',
      ADMIN,
      async (req, res, _p, url) => {
        try {
          const problems: FieldProblem[] = [];
          for (const k of url.searchParams.keys())
            if (k !== 'queue_id') problems.push({ field: k, message: 'is not a parameter of this endpoint' });
          if (!url.searchParams.get('queue_id'))
            problems.push({ field: 'queue_id', message: 'is required (the message whose entries to delete)' });
          if (problems.length) throw badRequest(problems);
          const r = await queue.delete(ctx.actor(req), { queueId: url.searchParams.get('queue_id')! });
          sendReport(res, r, 'delete');
        } catch (e) {
          if (!sendError(res, e, restField)) throw e;
        }
      },
    ),
  ];
}
