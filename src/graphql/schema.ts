// Assembles the GraphQL schema: importing a type module registers its type, queries, mutations, subscriptions.
import { lexicographicSortSchema, printSchema } from 'graphql';
import { assertAccessDeclared } from './access.ts';
import { builder } from './builder.ts';
import './types/scalars.ts';
import './types/errors.ts';
import './types/domainSettings.ts';
import './types/domain.ts';
import './types/dkimKey.ts';
import './types/user.ts';
import './types/totp.ts';
import './types/alias.ts';
import './types/mailbox.ts';
import './types/queue.ts';
import './types/deliveryEvent.ts';
import './types/audit.ts';
import './types/appPassword.ts';
import './types/blockedIp.ts';
import './types/session.ts';

export const schema = builder.toSchema();
assertAccessDeclared(schema);

/** The SDL committed as schema/schema.graphql (sorted, so it diffs cleanly). */
export const printedSchema = () => `${printSchema(lexicographicSortSchema(schema))}\n`;
