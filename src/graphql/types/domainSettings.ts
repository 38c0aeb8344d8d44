/**
 * The domain security sections as GraphQL types, generated from the one declaration in domains/settings.ts:
 * an output object and a partial input per section (dkim, spf, dmarc, antivirus, antispam, greylist, rateLimits,
 * auth). Rules: input fields are all optional (omitted = keep the current value, i.e. deep merge); a rate-limit
 * rule may be given in part and is merged with the current rule; enum values are the stored strings.
 */
import type { z } from 'zod';
import { dkimDnsRecord, dnsPublicKey } from '../../dkim/keys.ts';
import { type ColumnPatch, GENERAL_FIELDS, SECTIONS, type SectionDecl } from '../../domains/settings.ts';
import type { DomainRow, RateLimitRule } from '../../repos/rows.ts';
import { builder } from '../builder.ts';

export const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const pascal = (s: string) => camel(s).replace(/^./, (c) => c.toUpperCase());

const ENUM_NAMES: Record<string, string> = {
  'accept,quarantine,reject,tag': 'PolicyAction',
  'quarantine,reject,tag': 'VirusAction',
  'none,quarantine,reject': 'DmarcPolicy',
  'ed25519,rsa': 'DkimKeyType',
  'active,disabled': 'DomainStatus',
};

type Def = {
  type: string;
  innerType?: z.ZodType;
  entries?: Record<string, string>;
  options?: z.ZodType[];
  element?: z.ZodType;
};
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod;

const enums = new Map<string, ReturnType<typeof builder.enumType>>();
function enumFor(values: string[]) {
  const key = [...values].sort().join(',');
  const name = ENUM_NAMES[key];
  if (!name) throw new Error(`no GraphQL enum name declared for values ${key}`);
  let e = enums.get(name);
  if (!e) {
    e = builder.enumType(name, { values: Object.fromEntries(values.map((v) => [v.toUpperCase(), { value: v }])) });
    enums.set(name, e);
  }
  return e;
}

export const RateLimitRuleRef = builder.objectRef<RateLimitRule>('RateLimitRule').implement({
  description: 'At most `count` events per `windowMinutes`.',
  fields: (t) => ({ count: t.exposeInt('count'), windowMinutes: t.exposeInt('window_minutes') }),
});

const RateLimitRuleInput = builder.inputType('RateLimitRuleInput', {
  description: 'A rate-limit rule; an omitted field keeps its current value.',
  fields: (t) => ({ count: t.int(), windowMinutes: t.int() }),
});

interface Shape {
  // biome-ignore lint/suspicious/noExplicitAny: GraphQL type references of several kinds
  type: any;
  nullable: boolean;
  kind: 'scalar' | 'rule';
}

/** The GraphQL type of a declared setting, read from its zod schema. */
function shapeOf(schema: z.ZodType, input: boolean): Shape {
  let s = schema;
  let nullable = false;
  if (defOf(s).def.type === 'nullable') {
    nullable = true;
    s = defOf(s).def.innerType!;
  }
  const z_ = defOf(s);
  switch (z_.def.type) {
    case 'boolean':
      return { type: 'Boolean', nullable, kind: 'scalar' };
    case 'enum':
      return { type: enumFor(Object.values(z_.def.entries!)), nullable, kind: 'scalar' };
    case 'number': {
      const n = s as unknown as { isInt?: boolean; maxValue?: number };
      if (!n.isInt) return { type: 'Float', nullable, kind: 'scalar' };
      return {
        type: (n.maxValue ?? Number.POSITIVE_INFINITY) <= 2 ** 31 - 1 ? 'Int' : 'SafeInt',
        nullable,
        kind: 'scalar',
      };
    }
    case 'union':
      return { type: 'Int', nullable, kind: 'scalar' };
    case 'string':
      return { type: 'String', nullable, kind: 'scalar' };
    case 'array':
      return { type: ['String'], nullable, kind: 'scalar' };
    case 'object':
      return { type: input ? RateLimitRuleInput : RateLimitRuleRef, nullable, kind: 'rule' };
    default:
      throw new Error(`no GraphQL mapping for zod type ${z_.def.type}`);
  }
}

function outputType(section: SectionDecl) {
  return builder.objectRef<DomainRow>(`${pascal(section.graphql)}Settings`).implement({
    fields: (t) => {
      const fields: Record<string, unknown> = {};
      for (const [field, schema] of Object.entries(section.fields)) {
        const { type, nullable } = shapeOf(schema, false);
        const column = `${section.prefix}${field}` as keyof DomainRow;
        fields[camel(field)] = t.field({ type, nullable, resolve: (row) => row[column] as never });
      }
      if (section.rest === 'dkim') {
        fields.publicKey = t.string({
          nullable: true,
          description: 'The public key (PEM).',
          resolve: (row) => row.dkim_public_key,
        });
        fields.dnsRecordName = t.string({
          nullable: true,
          description: 'Where to publish the DKIM record.',
          resolve: (row) => (row.dkim_public_key ? `${row.dkim_selector}._domainkey.${row.name}` : null),
        });
        fields.dnsRecord = t.string({
          nullable: true,
          description: 'The TXT record value to publish at dnsRecordName.',
          resolve: (row) => (row.dkim_public_key ? dkimDnsRecord(row.dkim_public_key, row.dkim_key_type) : null),
        });
        fields.dnsPublicKey = t.string({
          nullable: true,
          description: 'The p= value of the DKIM record.',
          resolve: (row) => (row.dkim_public_key ? dnsPublicKey(row.dkim_public_key, row.dkim_key_type) : null),
        });
      }
      return fields as never;
    },
  });
}

function inputType(section: SectionDecl) {
  return builder.inputType(`${pascal(section.graphql)}SettingsInput`, {
    fields: (t) => {
      const fields: Record<string, unknown> = {};
      for (const [field, schema] of Object.entries(section.fields)) {
        const { type } = shapeOf(schema, true);
        fields[camel(field)] = t.field({ type, required: false });
      }
      return fields as never;
    },
  });
}

export const SECTION_TYPES = SECTIONS.map((section) => ({
  section,
  output: outputType(section),
  input: inputType(section),
}));

export const DomainStatusEnum = enumFor(['active', 'disabled']);
export const DkimKeyTypeEnum = enumFor(['rsa', 'ed25519']);

export const DomainSecurityInput = builder.inputType('DomainSecurityInput', {
  description: 'Partial security settings: sections and fields left out keep their current values.',
  fields: (t) =>
    Object.fromEntries(
      SECTION_TYPES.map(({ section, input }) => [section.graphql, t.field({ type: input, required: false })]),
    ) as never,
});

export const DomainSettingsInput = builder.inputType('DomainSettingsInput', {
  description: 'Partial domain settings: general fields and security sections; omitted fields keep their values.',
  fields: (t) =>
    ({
      ...Object.fromEntries(
        Object.entries(GENERAL_FIELDS).map(([field, schema]) => [
          camel(field),
          t.field({ type: shapeOf(schema, true).type, required: false }),
        ]),
      ),
      ...Object.fromEntries(
        SECTION_TYPES.map(({ section, input }) => [section.graphql, t.field({ type: input, required: false })]),
      ),
    }) as never,
});

type Obj = Record<string, unknown>;

/** GraphQL settings input (general fields and/or sections) -> flat column patch (partial rules stay partial). */
export function toColumnPatch(input: Obj | null | undefined): ColumnPatch {
  const patch: ColumnPatch = {};
  if (!input) return patch;
  for (const field of Object.keys(GENERAL_FIELDS)) {
    const v = input[camel(field)];
    if (v !== undefined) patch[field as keyof DomainRow] = v;
  }
  for (const section of SECTIONS) {
    const sec = input[section.graphql] as Obj | null | undefined;
    if (!sec) continue;
    for (const [field, schema] of Object.entries(section.fields)) {
      const v = sec[camel(field)];
      if (v === undefined) continue;
      const column = `${section.prefix}${field}` as keyof DomainRow;
      if (shapeOf(schema, true).kind === 'rule' && v !== null) {
        const r = v as { count?: number | null; windowMinutes?: number | null };
        patch[column] = {
          ...(r.count != null ? { count: r.count } : {}),
          ...(r.windowMinutes != null ? { window_minutes: r.windowMinutes } : {}),
        };
      } else patch[column] = v;
    }
  }
  return patch;
}

/** Column path (from a service ValidationError) -> path inside the GraphQL settings input. */
export function columnToInputPath(path: (string | number)[]): (string | number)[] {
  const [column, ...rest] = path.map(String);
  if (column && column in GENERAL_FIELDS) return [camel(column), ...rest.map(camel)];
  for (const section of SECTIONS)
    if (column?.startsWith(section.prefix) && column.slice(section.prefix.length) in section.fields)
      return [section.graphql, camel(column.slice(section.prefix.length)), ...rest.map(camel)];
  return path;
}
