/**
 * Queue management shared by every door (GraphQL, REST, CLI): retry and delete over the queue repository. Rules:
 * the repository decides which rows change (retry: queued/deferred only; delete: never a row being sent); spool
 * files no remaining row references are unlinked after the commit (spoolFiles.ts); every call that changed
 * something is audited once, naming what was selected.
 */
import type { Repos } from '../repos/index.ts';
import type { QueueChangeResult, QueueDeleteResult, QueueSelection } from '../repos/queue.ts';
import { removeUnreferenced, type SpoolLog } from './spoolFiles.ts';

/** The audit target of a selection: the queue id, `all`, or the row ids. */
const targetOf = (sel: QueueSelection) =>
  'all' in sel ? 'all' : 'queueId' in sel ? sel.queueId : `ids:${sel.ids.slice(0, 50).join(',')}`;

export function createQueueAdmin(repos: Pick<Repos, 'queue' | 'audit'>, log: SpoolLog) {
  const audit = (actor: string, action: string, sel: QueueSelection, r: QueueChangeResult) => {
    if (r.affected === 0) return;
    repos.audit.record(actor, action, 'queue', targetOf(sel), {
      affected: r.affected,
      refused: r.refused.length,
      queueIds: [...new Set(r.rows.map((x) => x.queue_id))].slice(0, 50),
    });
  };
  return {
    retry(actor: string, sel: QueueSelection): QueueChangeResult {
      const r = repos.queue.retry(sel);
      audit(actor, 'queue.retry', sel, r);
      return r;
    },
    /** Deletes, then unlinks the spool files no row needs any more (resolves once they are gone). */
    async delete(actor: string, sel: { ids: number[] } | { queueId: string }): Promise<QueueDeleteResult> {
      const r = repos.queue.delete(sel);
      audit(actor, 'queue.delete', sel, r);
      await removeUnreferenced(r.unreferencedSpoolFiles, log);
      return r;
    },
  };
}

export type QueueAdmin = ReturnType<typeof createQueueAdmin>;
