// AuditEntry: who changed what, newest first. Query: auditLog.
import { builder } from '../builder.ts';

export const AuditEntry = builder.drizzleNode('auditLog', {
  name: 'AuditEntry',
  id: { column: (a) => a.id },
  fields: (t) => ({
    at: t.field({ type: 'DateTime', resolve: (a) => a.at }),
    actor: t.exposeString('actor'),
    action: t.exposeString('action'),
    targetType: t.exposeString('target_type'),
    target: t.exposeString('target'),
    details: t.string({ nullable: true, resolve: (a) => (a.details ? JSON.stringify(a.details) : null) }),
  }),
});

builder.queryFields((t) => ({
  auditLog: t.drizzleConnection({
    type: 'auditLog',
    totalCount: (_p, _a, ctx) => ctx.repos.audit.count(),
    resolve: (query, _r, _a, ctx) => ctx.repos.readClient.query.auditLog.findMany(query({ orderBy: { id: 'desc' } })),
  }),
}));
