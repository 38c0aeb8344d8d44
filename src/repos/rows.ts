/**
 * Row types, stored enumerations and the stored domain defaults, for code outside src/repos. Rules: only
 * src/repos (and schema/) import schema/db; everything else takes the shapes it needs from here; nothing here
 * is a table.
 */
export type { AliasRow, UserRow } from '../../schema/db/accounts.ts';
export { DELIVERY_EVENT_TYPES, type DeliveryEventType, QUEUE_STATUSES } from '../../schema/db/delivery.ts';
export { domainDefaults, type RateLimitRule } from '../../schema/db/domain-defaults.ts';
export type { DomainRow } from '../../schema/db/domains.ts';
export type { MailboxRow } from '../../schema/db/mail.ts';
