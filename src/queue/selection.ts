/**
 * Which queue rows a retry or delete applies to, from the loose input of an API door (GraphQL arguments, a REST
 * body or query, CLI arguments). Rules: exactly one of `ids`, `queueId` and (retry only) `all`; ids are positive
 * integers; anything else is a ValidationError naming the field, before anything changes.
 */
import { type Issue, ValidationError } from '../repos/errors.ts';
import type { QueueSelection } from '../repos/queue.ts';

export interface SelectionInput {
  ids?: readonly (number | string)[] | null;
  queueId?: string | null;
  all?: boolean | null;
}

/** Field names as the door spells them (REST: queue_id). */
export interface SelectionFields {
  ids?: string;
  queueId?: string;
  all?: string;
}

export function queueSelection(
  input: SelectionInput,
  opts: { allowAll: boolean; fields?: SelectionFields },
): QueueSelection {
  const f = { ids: 'ids', queueId: 'queueId', all: 'all', ...opts.fields };
  const issues: Issue[] = [];
  const given = [
    input.ids !== undefined && input.ids !== null,
    input.queueId !== undefined && input.queueId !== null,
    input.all === true,
  ].filter(Boolean).length;
  if (input.all === true && !opts.allowAll) issues.push({ path: [f.all], message: 'is not supported here' });
  if (given === 0)
    issues.push({
      path: [],
      message: `name the entries: ${f.ids}, ${f.queueId}${opts.allowAll ? ` or ${f.all}` : ''}`,
    });
  if (given > 1)
    issues.push({ path: [], message: `give only one of ${f.ids}, ${f.queueId}${opts.allowAll ? `, ${f.all}` : ''}` });
  const ids: number[] = [];
  if (input.ids) {
    if (input.ids.length === 0) issues.push({ path: [f.ids], message: 'must name at least one entry' });
    input.ids.forEach((v, i) => {
      const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1)
        issues.push({ path: [f.ids, i], message: 'must be a queue entry id (a positive integer)' });
      else ids.push(n);
    });
  }
  if (typeof input.queueId === 'string' && input.queueId.trim() === '')
    issues.push({ path: [f.queueId], message: 'must not be empty' });
  if (issues.length) throw new ValidationError(issues);
  if (input.all === true) return { all: true };
  if (input.queueId !== undefined && input.queueId !== null) return { queueId: input.queueId.trim() };
  return { ids };
}
