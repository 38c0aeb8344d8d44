/**
 * Repository errors: the three kinds every front end maps to its own protocol (GraphQL error codes, HTTP
 * statuses, SMTP/IMAP replies). Rules: a raw database error never leaves a repository unclassified.
 */
export class NotFoundError extends Error {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly entity: string,
    readonly key: string,
  ) {
    super(`${entity} "${key}" not found`);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends Error {
  readonly code = 'CONFLICT';
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** A secret the caller had to prove (current password, TOTP or recovery code) did not match; nothing changed. */
export class AuthenticationError extends Error {
  readonly code = 'AUTHENTICATION';
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/**
 * The caller is authenticated but its scopes do not cover the target (another domain, another user, an admin
 * operation). GraphQL code FORBIDDEN, REST 403.
 */
export class ForbiddenError extends Error {
  readonly code = 'FORBIDDEN';
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** A single invalid input value (a ValidationError with one issue). */
export class InvalidInputError extends Error {
  readonly code = 'BAD_USER_INPUT';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

/** Turns a SQLite constraint violation into a ConflictError; rethrows anything else. */
export function classify(err: unknown, conflictMessage: string): never {
  const code =
    (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT_UNIQUE')) throw new ConflictError(conflictMessage);
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY'))
    throw new ConflictError(conflictMessage);
  throw err;
}

export interface Issue {
  /** Path of the offending input, in the terms of the layer that raised it (columns, for services). */
  path: (string | number)[];
  message: string;
}

/** One or more input fields are invalid; nothing was changed. */
export class ValidationError extends Error {
  readonly code = 'BAD_USER_INPUT';
  constructor(readonly issues: Issue[]) {
    super(`invalid input: ${issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
    this.name = 'ValidationError';
  }
}
