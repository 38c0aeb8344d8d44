/**
 * The Pothos schema builder. Rules: this file defines no types (each type lives in types/<type>.ts with its
 * queries and mutations); who may call a root field is declared in access.ts (ACCESS) and applied by its plugin,
 * the admin scope being the root types' default; scope failures are ForbiddenErrors (code FORBIDDEN), checked
 * when a subscription is created too; validation failures become ValidationError results.
 */
import SchemaBuilder from '@pothos/core';
import DrizzlePlugin from '@pothos/plugin-drizzle';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { z } from 'zod';
import { ValidationError } from '../repos/errors.ts';
import { getTableConfig, relations } from '../repos/readModel.ts';
import { type AccessScopes, forbiddenFor, scopeLoaders } from './access.ts';
import type { GraphQLContext } from './context.ts';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
const pageSize = z
  .number()
  .int()
  .min(0, { error: 'must not be negative' })
  .max(MAX_PAGE_SIZE, { error: `must be at most ${MAX_PAGE_SIZE}` })
  .nullish();

export interface PothosTypes {
  DrizzleRelations: typeof relations;
  Context: GraphQLContext;
  AuthScopes: AccessScopes;
  Scalars: {
    SafeInt: { Input: number; Output: number };
    DateTime: { Input: Date; Output: Date | number };
  };
  DefaultFieldNullability: false;
}

export const builder = new SchemaBuilder<PothosTypes>({
  // 'access' first: its check wraps the argument mappers of every other plugin (access.ts).
  plugins: ['access', ScopeAuthPlugin, ErrorsPlugin, ValidationPlugin, RelayPlugin, DrizzlePlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) =>
      scopeLoaders(ctx.auth, (email) => {
        const u = ctx.repos.users.get(email);
        return u ? ctx.repos.domainAdmins.domainsOf(u.id) : [];
      }),
    unauthorizedError: (_parent, _ctx, _info, result) => forbiddenFor(result.failure),
  },
  // Validation failures become typed ValidationError results too. This skips scope-auth's field-level hooks for
  // invalid input, so access.ts's plugin checks access before the arguments are mapped or validated.
  errors: { defaultTypes: [], directResult: true, unsafelyHandleInputErrors: true },
  validation: {
    validationError: (result) =>
      new ValidationError(
        result.issues.map((i) => ({
          path: (i.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)),
          message: i.message,
        })),
      ),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesOnConnection: true,
    firstArgOptions: { validate: pageSize },
    lastArgOptions: { validate: pageSize },
  },
  drizzle: {
    client: (ctx) => ctx.repos.readClient,
    getTableConfig,
    relations,
    defaultConnectionSize: DEFAULT_PAGE_SIZE,
    maxConnectionSize: MAX_PAGE_SIZE,
  },
});

builder.queryType({ authScopes: { admin: true } });
builder.mutationType({ authScopes: { admin: true } });
builder.subscriptionType({ authScopes: { admin: true } });
