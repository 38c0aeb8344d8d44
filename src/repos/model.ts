// The data model as code above the repositories sees it: the tables' row types, the value lists of enumerated
// columns and the domain defaults. Rules: only src/repos, src/db and schema/ import schema/db (the tables); every
// other module takes these from here (test/architecture/boundaries.test.ts checks it).
export type { AliasRow, UserRow } from '../../schema/db/accounts.ts';
export { DELIVERY_EVENT_TYPES, type DeliveryEventType, QUEUE_STATUSES } from '../../schema/db/delivery.ts';
export { DKIM_HEADERS_TO_SIGN, domainDefaults, type RateLimitRule } from '../../schema/db/domain-defaults.ts';
export type { DomainRow } from '../../schema/db/domains.ts';
export type { MailboxRow, MessageRow } from '../../schema/db/tables.ts';
