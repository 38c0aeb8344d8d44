/**
 * Domain JSON in gomailserver's shape: flat objects keyed by the `domains` column names (GET/PUT
 * /api/domains/{name}, the `domain` object of POST), and nested security sections (/security) whose fields
 * are the column names without their family prefix. Rules: rate limits are written as JSON strings
 * ("{\"count\":50,\"window_minutes\":60}", as gomailserver stores them) or objects; read-only fields in a PUT
 * are ignored; gomailserver's per-domain DNS server settings are accepted and ignored (every lookup goes
 * through the configured dns.servers); any other unknown field is a 400.
 */
import { dkimDnsRecord, dnsPublicKey } from '../dkim/keys.ts';
import { COLUMN_SCHEMAS, type ColumnPatch, RULE_COLUMNS, SECTIONS, validateDomainPatch } from '../domains/settings.ts';
import { TEMPLATE_DOMAIN } from '../repos/names.ts';
import type { DomainRow } from '../repos/rows.ts';
import { badRequest, type FieldProblem, jsonObject } from './http.ts';

const READ_ONLY = new Set([
  'id',
  'name',
  'created_at',
  'updated_at',
  'dkim_public_key',
  'dkim_private_key',
  'dkim_dns_record',
]);
const IGNORED = new Set(['spf_dns_server', 'spf_dns_timeout', 'dmarc_dns_server', 'dmarc_dns_timeout']);

/** A rate-limit rule may arrive as a JSON string (gomailserver's format) or as an object. */
function ruleValue(v: unknown, field: string, problems: FieldProblem[]): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    problems.push({ field, message: 'must be {"count": N, "window_minutes": M} (as an object or a JSON string)' });
    return undefined;
  }
}

export function flatDomain(row: DomainRow): Record<string, unknown> {
  const { dkim_private_key: _secret, ...rest } = row;
  const out: Record<string, unknown> = { ...rest };
  for (const c of RULE_COLUMNS) out[c] = JSON.stringify(row[c as keyof DomainRow]);
  out.dkim_public_key = row.dkim_public_key ? dnsPublicKey(row.dkim_public_key, row.dkim_key_type) : null;
  out.dkim_dns_record = row.dkim_public_key ? dkimDnsRecord(row.dkim_public_key, row.dkim_key_type) : null;
  out.is_template = row.name === TEMPLATE_DOMAIN;
  return out;
}

/** Flat column object (PUT body, POST `domain`) -> column patch plus the structural problems found. */
export function flatToPatch(body: unknown, prefix = ''): { patch: ColumnPatch; problems: FieldProblem[] } {
  const obj = jsonObject(body, prefix ? prefix.slice(0, -1) : '(body)');
  const patch: ColumnPatch = {};
  const problems: FieldProblem[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (READ_ONLY.has(k) || IGNORED.has(k) || k === 'is_template') continue;
    if (!(k in COLUMN_SCHEMAS)) {
      problems.push({ field: prefix + k, message: 'is not a domain setting' });
      continue;
    }
    const value = RULE_COLUMNS.has(k) ? ruleValue(v, prefix + k, problems) : v;
    if (value !== undefined) patch[k as keyof DomainRow] = value;
  }
  return { patch, problems };
}

/** Column (service error path) -> the flat field name, with `prefix` for POST's nested `domain` object. */
export const flatField =
  (prefix = '') =>
  (path: (string | number)[]) =>
    path[0] === 'name' ? 'name' : `${prefix}${path.join('.')}`;

export function securityJson(row: DomainRow): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of SECTIONS) {
    const sec: Record<string, unknown> = {};
    for (const f of Object.keys(s.fields)) sec[f] = row[`${s.prefix}${f}` as keyof DomainRow];
    out[s.rest] = sec;
  }
  out.dkim!.public_key = row.dkim_public_key ? dnsPublicKey(row.dkim_public_key, row.dkim_key_type) : null;
  out.dkim!.dns_record = row.dkim_public_key ? dkimDnsRecord(row.dkim_public_key, row.dkim_key_type) : null;
  return out;
}

/** Nested security body -> column patch (partial: omitted sections and fields keep their values) and problems. */
export function securityToPatch(body: unknown): { patch: ColumnPatch; problems: FieldProblem[] } {
  const obj = jsonObject(body);
  const patch: ColumnPatch = {};
  const problems: FieldProblem[] = [];
  for (const [name, value] of Object.entries(obj)) {
    const section = SECTIONS.find((s) => s.rest === name);
    if (!section) {
      problems.push({ field: name, message: `is not a security section (${SECTIONS.map((s) => s.rest).join(', ')})` });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ field: name, message: 'must be a JSON object' });
      continue;
    }
    for (const [f, v] of Object.entries(value)) {
      if (name === 'dkim' && (f === 'public_key' || f === 'dns_record')) continue;
      if (!(f in section.fields)) {
        problems.push({ field: `${name}.${f}`, message: 'is not a setting of this section' });
        continue;
      }
      const column = `${section.prefix}${f}`;
      const val = RULE_COLUMNS.has(column) ? ruleValue(v, `${name}.${f}`, problems) : v;
      if (val !== undefined) patch[column as keyof DomainRow] = val;
    }
  }
  return { patch, problems };
}

/**
 * Throws one 400 listing every problem: the structural ones found while mapping the body, plus every value
 * problem the settings declaration finds (validated against `current` for cross-field rules).
 */
export function ensureValid(
  mapped: { patch: ColumnPatch; problems: FieldProblem[] },
  current: Partial<DomainRow> | undefined,
  toField: (path: (string | number)[]) => string,
): ColumnPatch {
  const { issues } = validateDomainPatch(mapped.patch, current);
  const all = [
    ...mapped.problems,
    ...issues.map((i) => ({ field: toField([i.column, ...i.subpath]), message: i.message })),
  ];
  if (all.length) throw badRequest(all);
  return mapped.patch;
}

/** Column -> "section.field" for /security errors. */
export function securityField(path: (string | number)[]): string {
  const [column, ...rest] = path.map(String);
  for (const s of SECTIONS)
    if (column?.startsWith(s.prefix) && column.slice(s.prefix.length) in s.fields)
      return [s.rest, column.slice(s.prefix.length), ...rest].join('.');
  return path.join('.');
}
