/**
 * Typed errors (errors plugin): mutations return their result or one of these. Rules: the message is safe to
 * show; ValidationError lists every bad field with its path in the operation's input.
 */
import { AuthenticationError, ConflictError, type Issue, NotFoundError, ValidationError } from '../../repos/errors.ts';
import { builder } from '../builder.ts';

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  fields: (t) => ({ message: t.exposeString('message') }),
});

const FieldError = builder.objectRef<Issue>('FieldError').implement({
  fields: (t) => ({
    path: t.stringList({
      description: 'Path of the field in the operation input.',
      resolve: (i) => i.path.map(String),
    }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  isTypeOf: (o) => o instanceof ValidationError,
  fields: (t) => ({
    code: t.exposeString('code'),
    fieldErrors: t.field({ type: [FieldError], resolve: (e) => e.issues }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  isTypeOf: (o) => o instanceof NotFoundError,
  fields: (t) => ({ code: t.exposeString('code'), entity: t.exposeString('entity'), key: t.exposeString('key') }),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  interfaces: [ErrorInterface],
  isTypeOf: (o) => o instanceof ConflictError,
  fields: (t) => ({ code: t.exposeString('code') }),
});

builder.objectType(AuthenticationError, {
  name: 'AuthenticationError',
  description: 'A secret the caller had to prove (current password, TOTP or recovery code) did not match.',
  interfaces: [ErrorInterface],
  isTypeOf: (o) => o instanceof AuthenticationError,
  fields: (t) => ({ code: t.exposeString('code') }),
});

/** The error types every mutation can return. */
export const MUTATION_ERRORS = [ValidationError, NotFoundError, ConflictError];

/** Those of mutations that also check a password or code the caller gives. */
export const CREDENTIAL_MUTATION_ERRORS = [...MUTATION_ERRORS, AuthenticationError];

/** What a delete mutation returns: the deleted object no longer exists, so it is identified, not refetched. */
export interface DeletedShape {
  id: string;
  key: string;
}

export const Deleted = builder.objectRef<DeletedShape>('Deleted').implement({
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The global id the object had.' }),
    key: t.exposeString('key', { description: 'Its natural key (domain name, email, address, queue id).' }),
  }),
});
