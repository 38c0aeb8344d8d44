/**
 * Translates errors raised below the GraphQL layer into typed GraphQL errors with paths in the operation's own
 * terms. Rules: services report column names (or their own field names); each resolver says how those map to
 * its input; anything else is rethrown unchanged (the errors plugin or Yoga's masking handles it).
 */
import { InvalidInputError, type Issue, ValidationError } from '../repos/errors.ts';

export type PathMapper = (path: (string | number)[]) => (string | number)[];

export async function mapInputErrors<T>(toPath: PathMapper, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ValidationError)
      throw new ValidationError(e.issues.map((i: Issue) => ({ ...i, path: toPath(i.path) })));
    if (e instanceof InvalidInputError)
      throw new ValidationError([{ path: toPath([e.field ?? 'input']), message: e.message }]);
    throw e;
  }
}

export const under =
  (...prefix: (string | number)[]): PathMapper =>
  (path) => [...prefix, ...path];
