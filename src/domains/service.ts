/**
 * Domain operations shared by every API (GraphQL, REST, CLI): validation, DKIM key generation, audit.
 * Rules: validate everything before writing (an invalid input changes nothing); DKIM keys are generated before
 * the write that stores them; a change of DKIM key type or size regenerates the key; every change is audited.
 */

import { type DkimKeyType, generateDkimKey } from '../dkim/keys.ts';
import { ConflictError, ValidationError } from '../repos/errors.ts';
import type { Repos } from '../repos/index.ts';
import { normalizeDomain, TEMPLATE_DOMAIN } from '../repos/names.ts';
import type { DomainRow } from '../repos/rows.ts';
import { type ColumnPatch, DEFAULT_SETTINGS, validateDomainPatch } from './settings.ts';

export type DomainPatch = ColumnPatch;

function check(patch: ColumnPatch, current: Partial<DomainRow> | undefined): ColumnPatch {
  const { issues, value } = validateDomainPatch(patch, current);
  if (issues.length)
    throw new ValidationError(issues.map((i) => ({ path: [i.column, ...i.subpath], message: i.message })));
  return value;
}

function normalizedName(name: string): string {
  try {
    return normalizeDomain(name);
  } catch (e) {
    throw new ValidationError([{ path: ['name'], message: (e as Error).message }]);
  }
}

export function createDomainService(repos: Repos) {
  const keysFor = async (row: Pick<DomainRow, 'dkim_key_type' | 'dkim_key_size'>) => {
    const pair = await generateDkimKey(row.dkim_key_type as DkimKeyType, row.dkim_key_size);
    return { dkim_private_key: pair.privateKey, dkim_public_key: pair.publicKey };
  };

  const service = {
    async create(actor: string, name: string, useTemplate: boolean, patch: DomainPatch = {}): Promise<DomainRow> {
      const key = normalizedName(name);
      if (key === TEMPLATE_DOMAIN)
        throw new ValidationError([{ path: ['name'], message: '_default is reserved for the template' }]);
      const base = useTemplate ? repos.domains.template() : undefined;
      const value = check(patch, base ?? DEFAULT_SETTINGS);
      if (repos.domains.get(key)) throw new ConflictError(`domain "${key}" already exists`);
      const merged = { ...(base ?? DEFAULT_SETTINGS), ...value } as DomainRow;
      const keys = await keysFor(merged);
      const row = repos.domains.create(key, { useTemplate, values: { ...value, ...keys } as Partial<DomainRow> });
      repos.audit.record(actor, 'domain.create', 'domain', row.name, { useTemplate, fields: Object.keys(value) });
      return row;
    },

    async update(actor: string, name: string, patch: DomainPatch): Promise<DomainRow> {
      const current = repos.domains.require(name);
      const value = check(patch, current);
      const next = { ...current, ...value } as DomainRow;
      const rekey =
        current.name !== TEMPLATE_DOMAIN &&
        (next.dkim_key_type !== current.dkim_key_type ||
          next.dkim_key_size !== current.dkim_key_size ||
          !current.dkim_private_key);
      const keys = rekey ? await keysFor(next) : {};
      const row = repos.domains.update(current.name, { ...value, ...keys } as Partial<DomainRow>);
      repos.audit.record(
        actor,
        current.name === TEMPLATE_DOMAIN ? 'template.update' : 'domain.update',
        'domain',
        row.name,
        {
          fields: Object.keys(value),
          dkimKeyRegenerated: rekey,
        },
      );
      return row;
    },

    async rotateDkimKey(
      actor: string,
      name: string,
      opts: { keyType?: DkimKeyType; keySize?: number; selector?: string } = {},
    ): Promise<DomainRow> {
      const current = repos.domains.require(name);
      if (current.name === TEMPLATE_DOMAIN)
        throw new ValidationError([{ path: ['name'], message: 'the _default template has no DKIM key' }]);
      const patch: ColumnPatch = {};
      if (opts.keyType !== undefined) patch.dkim_key_type = opts.keyType;
      if (opts.keySize !== undefined) patch.dkim_key_size = opts.keySize;
      if (opts.selector !== undefined) patch.dkim_selector = opts.selector;
      const value = check(patch, current);
      const keys = await keysFor({ ...current, ...value } as DomainRow);
      const row = repos.domains.update(current.name, { ...value, ...keys } as Partial<DomainRow>);
      repos.audit.record(actor, 'domain.rotate_dkim', 'domain', row.name, {
        keyType: row.dkim_key_type,
        keySize: row.dkim_key_size,
        selector: row.dkim_selector,
      });
      return row;
    },

    delete(actor: string, name: string, force = false): DomainRow {
      const row = repos.domains.delete(name, { force });
      repos.audit.record(actor, 'domain.delete', 'domain', row.name, { force });
      return row;
    },
  };
  return service;
}

export type DomainService = ReturnType<typeof createDomainService>;
