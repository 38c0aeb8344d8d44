// Relational-query definitions (drizzle 1.0 relations v2), shared by the repositories and the Pothos builder.
import { defineRelations } from 'drizzle-orm';
import * as tables from './tables.ts';

export const relations = defineRelations(tables, (r) => ({
  domains: {
    users: r.many.users(),
    aliases: r.many.aliases(),
  },
  users: {
    domain: r.one.domains({ from: r.users.domain_id, to: r.domains.id, optional: false }),
    mailboxes: r.many.mailboxes(),
    appPasswords: r.many.appPasswords(),
  },
  aliases: {
    domain: r.one.domains({ from: r.aliases.domain_id, to: r.domains.id, optional: false }),
  },
  appPasswords: {
    user: r.one.users({ from: r.appPasswords.user_id, to: r.users.id, optional: false }),
  },
  mailboxes: {
    user: r.one.users({ from: r.mailboxes.user_id, to: r.users.id, optional: false }),
    messages: r.many.messages(),
  },
  messages: {
    mailbox: r.one.mailboxes({ from: r.messages.mailbox_id, to: r.mailboxes.id, optional: false }),
  },
}));
