// Scalars: SafeInt (integers beyond GraphQL's 32-bit Int, e.g. byte quotas) and DateTime (ISO 8601).
import { GraphQLError, Kind } from 'graphql';
import { builder } from '../builder.ts';

const safeInt = (v: unknown): number => {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw new GraphQLError('SafeInt must be an integer within ±2^53');
  return n;
};

builder.scalarType('SafeInt', {
  description: 'An integer within ±(2^53 - 1); used for byte counts such as quotas.',
  serialize: (v) => safeInt(v),
  parseValue: (v) => safeInt(v),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.INT) throw new GraphQLError('SafeInt must be an integer literal');
    return safeInt(ast.value);
  },
});

builder.scalarType('DateTime', {
  description: 'A point in time, ISO 8601 in UTC.',
  serialize: (v) => new Date(v as Date | number).toISOString(),
  parseValue: (v) => {
    const d = new Date(v as string);
    if (typeof v !== 'string' || Number.isNaN(d.getTime()))
      throw new GraphQLError('DateTime must be an ISO 8601 string');
    return d;
  },
});
