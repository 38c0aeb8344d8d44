/**
 * Operation limits, as GraphQL validation rules (they run before execution, so an abusive query costs nothing):
 * maximum selection depth and maximum estimated cost. Rules: introspection fields (`__schema`, `__type`) are
 * not counted, so GraphiQL works under a tight depth limit; cost = every field counts 1, times the page size
 * of every enclosing list (first/last; a variable counts as the maximum page size; a connection without first
 * counts as the default page; any other list as 10).
 */
import {
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  type GraphQLType,
  getNamedType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';

const isIntrospection = (name: string) => name.startsWith('__');

function fragmentsOf(ctx: { getFragment(name: string): FragmentDefinitionNode | null | undefined }) {
  return (name: string) => ctx.getFragment(name) ?? undefined;
}

export function depthLimitRule(max: number): ValidationRule {
  return (context) => {
    const fragment = fragmentsOf(context);
    const depth = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
      if (!set) return 0;
      let d = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (isIntrospection(sel.name.value)) continue;
          d = Math.max(d, sel.selectionSet ? 1 + depth(sel.selectionSet, seen) : 1);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) d = Math.max(d, depth(sel.selectionSet, seen));
        else if (!seen.has(sel.name.value)) {
          const f = fragment(sel.name.value);
          d = Math.max(d, depth(f?.selectionSet, new Set([...seen, sel.name.value])));
        }
      }
      return d;
    };
    return {
      OperationDefinition(node) {
        const d = depth(node.selectionSet, new Set());
        if (d > max)
          context.reportError(
            new GraphQLError(`query depth ${d} exceeds the limit of ${max}`, {
              nodes: [node],
              extensions: { code: 'QUERY_TOO_DEEP' },
            }),
          );
      },
    };
  };
}

const unwrapList = (t: GraphQLType): boolean => {
  let x = t;
  if (isNonNullType(x)) x = x.ofType;
  return isListType(x);
};

export function costLimitRule(max: number, maxPage: number, defaultPage: number): ValidationRule {
  return (context) => {
    const schema: GraphQLSchema = context.getSchema();
    const fragment = fragmentsOf(context);
    const cost = (
      set: SelectionSetNode | undefined,
      parent: GraphQLNamedType | undefined,
      mult: number,
      seen: Set<string>,
    ): number => {
      if (!set) return 0;
      let total = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (isIntrospection(sel.name.value)) continue;
          const fields = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields() : undefined;
          const def = fields?.[sel.name.value];
          let factor = 1;
          const pageArg = sel.arguments?.find((a) => a.name.value === 'first' || a.name.value === 'last');
          if (pageArg)
            factor = pageArg.value.kind === Kind.INT ? Math.min(Number(pageArg.value.value), maxPage) : maxPage;
          else if (def?.args.some((a) => a.name === 'first')) factor = defaultPage;
          else if (def && unwrapList(def.type) && !parent?.name.endsWith('Connection')) factor = 10; // a connection's nodes/edges are its page
          total += mult + cost(sel.selectionSet, def ? getNamedType(def.type) : undefined, mult * factor, seen);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          const t = sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) ?? parent) : parent;
          total += cost(sel.selectionSet, t, mult, seen);
        } else if (!seen.has(sel.name.value)) {
          const f = fragment(sel.name.value);
          const t = f ? (schema.getType(f.typeCondition.name.value) ?? parent) : parent;
          total += cost(f?.selectionSet, t, mult, new Set([...seen, sel.name.value]));
        }
      }
      return total;
    };
    return {
      OperationDefinition(node) {
        const root =
          node.operation === 'query'
            ? schema.getQueryType()
            : node.operation === 'mutation'
              ? schema.getMutationType()
              : schema.getSubscriptionType();
        const c = cost(node.selectionSet, root ?? undefined, 1, new Set());
        if (c > max)
          context.reportError(
            new GraphQLError(`query cost ${c} exceeds the limit of ${max}`, {
              nodes: [node],
              extensions: { code: 'QUERY_TOO_COMPLEX', cost: c },
            }),
          );
      },
    };
  };
}
