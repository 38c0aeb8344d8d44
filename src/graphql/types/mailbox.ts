// Mailbox: a user's IMAP folder with its counts (read-only here; IMAP manages mailboxes).
import { READ_FILTERS } from '../../repos/readModel.ts';
import { builder } from '../builder.ts';

export const Mailbox = builder.drizzleNode('mailboxes', {
  name: 'Mailbox',
  id: { column: (m) => m.id },
  fields: (t) => ({
    name: t.exposeString('name'),
    specialUse: t.exposeString('special_use', { nullable: true }),
    subscribed: t.exposeBoolean('subscribed'),
    uidValidity: t.field({ type: 'SafeInt', resolve: (m) => m.uidvalidity }),
    uidNext: t.field({ type: 'SafeInt', resolve: (m) => m.uidnext }),
    highestModseq: t.field({ type: 'SafeInt', resolve: (m) => m.highestmodseq }),
    messageCount: t.relatedCount('messages'),
    unseenCount: t.relatedCount('messages', { where: READ_FILTERS.unseenMessages }),
  }),
});
