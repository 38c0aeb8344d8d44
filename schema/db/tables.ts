// Every Drizzle table, for drizzle-kit and the repositories. One file per area; this file only re-exports.
export * from './accounts.ts';
export * from './admin.ts';
export * from './delivery.ts';
export * from './domains.ts';
export * from './mail.ts';
export * from './protection.ts';
