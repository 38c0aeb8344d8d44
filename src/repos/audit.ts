/**
 * Audit log: who changed what, for every state change made through an API or the CLI. Rules: recorded after
 * the change commits; details never include secrets (passwords, private keys, tokens).
 */
import { count, desc, lt } from 'drizzle-orm';
import { type AuditRow, auditLog } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';

export function createAuditRepo(db: Db, bus: EventBus) {
  return {
    record(
      actor: string,
      action: string,
      targetType: string,
      target: string,
      details?: Record<string, unknown>,
    ): AuditRow {
      const row = db
        .insert(auditLog)
        .values({ actor, action, target_type: targetType, target, details: details ?? null, at: Date.now() })
        .returning()
        .get();
      bus.publish('audit.recorded', { id: row.id, actor, action, targetType, target });
      return row;
    },
    count(): number {
      return db.select({ n: count() }).from(auditLog).get()?.n ?? 0;
    },
    /** Newest first; `before` is an id cursor. */
    list(opts: { before?: number; limit?: number } = {}): AuditRow[] {
      const q = db.select().from(auditLog);
      return (opts.before ? q.where(lt(auditLog.id, opts.before)) : q)
        .orderBy(desc(auditLog.id))
        .limit(opts.limit ?? 100)
        .all();
    },
  };
}
