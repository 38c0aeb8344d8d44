/**
 * Schema introspection for the config declaration: lists sections and leaves with their descriptions, defaults
 * and examples. Rules: only reads zod's public `_zod.def`; wrappers (default, prefault, optional) are peeled.
 */
import type { z } from 'zod';

export type LeafKind = 'string' | 'number' | 'boolean' | 'array' | 'enum';

export interface Node {
  path: string[];
  description: string;
  /** undefined when the key is optional without a default. */
  default: unknown;
  example: unknown;
  section: boolean;
  kind: LeafKind | 'object';
  children: Node[];
}

type AnySchema = z.ZodType & { _zod: { def: Record<string, unknown> & { type: string } } };

function peel(schema: AnySchema): { inner: AnySchema; def: unknown } {
  let s = schema;
  let def: unknown;
  for (;;) {
    const d = s._zod.def;
    if (d.type === 'default' || d.type === 'prefault') {
      if (def === undefined) def = (d as unknown as { defaultValue: unknown }).defaultValue;
      s = d.innerType as AnySchema;
    } else if (d.type === 'optional' || d.type === 'nullable') {
      s = d.innerType as AnySchema;
    } else return { inner: s, def };
  }
}

export function describeSchema(schema: z.ZodType, path: string[] = []): Node {
  const s = schema as AnySchema;
  const meta = (s.meta?.() ?? {}) as { description?: string; example?: unknown };
  const { inner, def } = peel(s);
  const type = inner._zod.def.type;
  const node: Node = {
    path,
    description: meta.description ?? '',
    default: def,
    example: meta.example,
    section: type === 'object',
    kind: type === 'object' ? 'object' : (type as LeafKind),
    children: [],
  };
  if (type === 'object') {
    const shape = (inner._zod.def as unknown as { shape: Record<string, z.ZodType> }).shape;
    node.children = Object.entries(shape).map(([k, v]) => describeSchema(v, [...path, k]));
  }
  return node;
}

export function leaves(node: Node): Node[] {
  return node.section ? node.children.flatMap(leaves) : [node];
}

export function envName(path: string[]): string {
  return `MAILYARD_${path.join('_').toUpperCase()}`;
}
