/**
 * Loads the bootstrap config: YAML file (or the embedded default profile), then MAILYARD_* environment
 * overrides, validated by the one zod schema. Rules: an unknown key is a warning naming it and the file; a wrong
 * type or value is a ConfigError naming the key and the file (or the environment variable); nothing here binds
 * sockets or touches the database. Relative paths resolve against the working directory.
 */
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { configSchema, type ParsedConfig } from './schema.ts';
import { describeSchema, envName, leaves, type Node } from './walk.ts';

export interface Config extends ParsedConfig {
  server: ParsedConfig['server'] & { hostname: string };
  storage: { mail_dir: string };
  /** Folder of the database file: admin token, self-signed certificate and other state live here. */
  dataDir: string;
  /** The file the config came from, or "(embedded default)". */
  source: string;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const EMBEDDED_SOURCE = '(embedded default)';

/** The profile used when no config file is given: everything on loopback, unprivileged ports, data in ./data. */
export const embeddedProfile = {
  server: { bind_address: '127.0.0.1', hostname: 'localhost' },
  smtp: { relay_port: 2525, submission_port: 2587, smtps_port: 2465 },
  imap: { port: 1143, imaps_port: 1993 },
  api: { port: 8080 },
  logger: { format: 'pretty' },
} as const;

const tree = describeSchema(configSchema);

export interface LoadOptions {
  file?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface LoadResult {
  config: Config;
  warnings: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `key:` with no value (YAML null) means "not set": e.g. a section whose keys are all commented out. */
function dropNulls(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== null) out[k] = isObj(v) ? dropNulls(v) : v;
  return out;
}

function unknownKeys(raw: Obj, node: Node, out: string[]): void {
  const known = new Map(node.children.map((c) => [c.path[c.path.length - 1], c]));
  for (const [k, v] of Object.entries(raw)) {
    const child = known.get(k);
    const name = [...node.path, k].join('.');
    if (!child) out.push(name);
    else if (child.section && isObj(v)) unknownKeys(v, child, out);
  }
}

function coerceEnv(kind: Node['kind'], value: string): unknown {
  switch (kind) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
    case 'boolean': {
      const v = value.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      return value;
    }
    case 'array':
      return value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return value;
  }
}

function setPath(obj: Obj, path: string[], value: unknown): void {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    if (!isObj(o[k])) o[k] = {};
    o = o[k] as Obj;
  }
  o[path[path.length - 1]!] = value;
}

function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  return out;
}

function readYaml(file: string): Obj {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [code === 'ENOENT' ? 'config file not found' : `cannot read config file: ${code}`]);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => `YAML syntax error at line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`),
    );
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (!isObj(value)) throw new ConfigError(file, ['the top level must be a mapping of sections (server:, smtp:, ...)']);
  return dropNulls(value);
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function loadConfig(opts: LoadOptions = {}): LoadResult {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const file = opts.file ? resolve(cwd, opts.file) : undefined;
  const source = file ?? EMBEDDED_SOURCE;
  const warnings: string[] = [];

  let raw: Obj = file ? readYaml(file) : (structuredClone(embeddedProfile) as unknown as Obj);
  if (file) {
    const unknown: string[] = [];
    unknownKeys(raw, tree, unknown);
    for (const k of unknown) warnings.push(`unknown config key "${k}" in ${file} (ignored)`);
  }

  const fromEnv = new Map<string, string>();
  for (const leaf of leaves(tree)) {
    const name = envName(leaf.path);
    const value = env[name];
    if (value === undefined || value === '') continue;
    raw = deepMerge(raw, {});
    setPath(raw, leaf.path, coerceEnv(leaf.kind, value));
    fromEnv.set(leaf.path.join('.'), name);
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.') || '(top level)';
      const envVar = fromEnv.get(key);
      let given: unknown = raw;
      for (const p of issue.path) given = isObj(given) || Array.isArray(given) ? (given as Obj)[String(p)] : undefined;
      const where = envVar ? `environment variable ${envVar} (${key})` : `key "${key}"`;
      return `${where}: ${issue.message} (got ${describeValue(given)})`;
    });
    throw new ConfigError(source, problems);
  }

  const c = parsed.data;
  const dbPath = resolve(cwd, c.database.path);
  const dataDir = dirname(dbPath);
  const config: Config = {
    ...c,
    server: { ...c.server, hostname: c.server.hostname ?? osHostname() },
    database: { ...c.database, path: dbPath },
    storage: { mail_dir: resolve(cwd, c.storage.mail_dir ?? resolve(dataDir, 'mail')) },
    tls: {
      ...c.tls,
      cert_file: c.tls.cert_file && resolve(cwd, c.tls.cert_file),
      key_file: c.tls.key_file && resolve(cwd, c.tls.key_file),
      certificates: c.tls.certificates.map((p) => ({
        cert_file: resolve(cwd, p.cert_file),
        key_file: resolve(cwd, p.key_file),
      })),
      acme: { ...c.tls.acme, cache_dir: resolve(cwd, c.tls.acme.cache_dir) },
    },
    dataDir,
    source,
  };
  return { config, warnings };
}
