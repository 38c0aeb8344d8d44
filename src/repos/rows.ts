// The row types of the tables, for code above the repositories (which never imports schema/db itself).
export type { AliasRow, UserRow } from '../../schema/db/accounts.ts';
export type { DomainRow } from '../../schema/db/domains.ts';
export type { MailboxRow, MessageRow } from '../../schema/db/tables.ts';
