// The repository layer: the only code that touches tables. Front ends receive this object.
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import { createAliasesRepo } from './aliases.ts';
import { createApiTokensRepo } from './apiTokens.ts';
import { createAppPasswordsRepo } from './appPasswords.ts';
import { createAuditRepo } from './audit.ts';
import { createBlockedIpsRepo } from './blockedIps.ts';
import { createDeliveriesRepo } from './deliveries.ts';
import { createDeliveryEventsRepo } from './deliveryEvents.ts';
import { createDkimKeysRepo } from './dkimKeys.ts';
import { createDomainAdminsRepo } from './domainAdmins.ts';
import { createDomainsRepo } from './domains.ts';
import { createGreylistRepo } from './greylist.ts';
import { createMailboxesRepo } from './mailboxes.ts';
import { createMessagesRepo } from './messages.ts';
import { createMtaStsRepo } from './mtaSts.ts';
import { createQueueRepo } from './queue.ts';
import { createQueueDeliveryRepo } from './queueDelivery.ts';
import { readClientOf } from './readModel.ts';
import { createSessionsRepo } from './sessions.ts';
import { createTotpRepo } from './totp.ts';
import { createUsersRepo } from './users.ts';

export function createRepos(db: Db, bus: EventBus) {
  const domains = createDomainsRepo(db, bus);
  const users = createUsersRepo(db, bus);
  return {
    /**
     * A read-only Drizzle handle for the relational queries planned by the GraphQL layer (readModel.ts). Every
     * write goes through the repositories below.
     */
    readClient: readClientOf(db),
    domains,
    dkimKeys: createDkimKeysRepo(db, bus, { invalidateDomain: domains.invalidate }),
    users,
    totp: createTotpRepo(db, bus, users),
    aliases: createAliasesRepo(db, bus),
    audit: createAuditRepo(db, bus),
    apiTokens: createApiTokensRepo(db),
    sessions: createSessionsRepo(db),
    domainAdmins: createDomainAdminsRepo(db),
    deliveryEvents: createDeliveryEventsRepo(db, bus),
    queue: createQueueRepo(db, bus),
    queueDelivery: createQueueDeliveryRepo(db, bus),
    mtaSts: createMtaStsRepo(db),
    deliveries: createDeliveriesRepo(db, bus),
    mailboxes: createMailboxesRepo(db, bus),
    messages: createMessagesRepo(db, bus),
    greylist: createGreylistRepo(db),
    appPasswords: createAppPasswordsRepo(db, bus),
    blockedIps: createBlockedIpsRepo(db, bus),
  };
}

export type Repos = ReturnType<typeof createRepos>;
