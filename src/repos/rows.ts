/**
 * Row types, stored enumerations and the stored domain defaults, for code outside src/repos. Rules: only
 * src/repos (with src/db and schema/) import schema/db; everything else takes the shapes it needs from here;
 * nothing here is a table (test/architecture/boundaries.test.ts checks both).
 */
export {
  type AliasRow,
  APP_PASSWORD_SCOPES,
  type AppPasswordRow,
  type AppPasswordScope,
  type RecoveryCodeRow,
  type UserRow,
} from '../../schema/db/accounts.ts';
export type { ApiTokenRow, AuditRow, SessionRow } from '../../schema/db/admin.ts';
export {
  DELIVERY_EVENT_TYPES,
  type DeliveryEventType,
  QUEUE_STATUSES,
  type QueueRow,
} from '../../schema/db/delivery.ts';
export { DKIM_HEADERS_TO_SIGN, domainDefaults, type RateLimitRule } from '../../schema/db/domain-defaults.ts';
export type { DkimKeyRow, DomainRow } from '../../schema/db/domains.ts';
export type { MailboxRow, MessageRow } from '../../schema/db/mail.ts';
export type { BlockedIpRow } from '../../schema/db/protection.ts';
