/**
 * DKIM key rotation, shared by GraphQL, REST and the CLI. Rules: a domain has one active key (it signs) and any
 * number of staged keys (published, not signing yet) and retiring keys (previously active, still published so
 * mail signed with them keeps verifying). The procedure is stage -> publish the record -> activate -> wait for
 * mail signed with the old key to be delivered and checked -> retire. A selector is a DNS label sequence, stored
 * lower-case, used once per domain; only a staged key can be activated; the active key cannot be retired; the
 * `_default` template has no keys. Keys are generated before any write; every change is audited. Validation
 * errors name the service's own fields (selector, keyType, keySize).
 */
import type { DkimKeysRepo } from '../repos/dkimKeys.ts';
import { ConflictError, type Issue, ValidationError } from '../repos/errors.ts';
import type { Repos } from '../repos/index.ts';
import { TEMPLATE_DOMAIN } from '../repos/names.ts';
import type { DomainRow } from '../repos/rows.ts';
import { type DkimKeyType, dkimDnsRecord, generateDkimKey, RSA_KEY_SIZES } from './keys.ts';

export type DkimKeyStatus = 'active' | 'staged' | 'retiring';

export interface DkimKeyInfo {
  selector: string;
  status: DkimKeyStatus;
  keyType: DkimKeyType;
  /** RSA modulus length; 256 for Ed25519. */
  keySize: number;
  /** Where the record is published: <selector>._domainkey.<domain>. */
  dnsName: string;
  /** The TXT record value. */
  dnsRecord: string;
  /** Epoch ms; null for the active key (the domain row does not record when its key was made). */
  createdAt: number | null;
}

const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const STATUS_ORDER: Record<DkimKeyStatus, number> = { active: 0, staged: 1, retiring: 2 };

function normalizeSelector(selector: unknown): string {
  const s = typeof selector === 'string' ? selector.trim().toLowerCase() : '';
  if (!s || s.length > 253 || !SELECTOR.test(s))
    throw new ValidationError([
      { path: ['selector'], message: 'must be a DNS label sequence (letters, digits, hyphens, dots)' },
    ]);
  return s;
}

type KeyRow = ReturnType<DkimKeysRepo['list']>[number];

function info(domain: DomainRow, k: KeyRow): DkimKeyInfo {
  return {
    selector: k.selector,
    status: k.status,
    keyType: k.key_type,
    keySize: k.key_type === 'ed25519' ? 256 : k.key_size,
    dnsName: `${k.selector}._domainkey.${domain.name}`,
    dnsRecord: dkimDnsRecord(k.public_key, k.key_type),
    createdAt: k.created_at,
  };
}

function activeInfo(domain: DomainRow): DkimKeyInfo | null {
  if (!domain.dkim_public_key) return null;
  return {
    selector: domain.dkim_selector,
    status: 'active',
    keyType: domain.dkim_key_type,
    keySize: domain.dkim_key_type === 'ed25519' ? 256 : domain.dkim_key_size,
    dnsName: `${domain.dkim_selector}._domainkey.${domain.name}`,
    dnsRecord: dkimDnsRecord(domain.dkim_public_key, domain.dkim_key_type),
    createdAt: null,
  };
}

export function createDkimRotation(repos: Repos) {
  const hosted = (name: string): DomainRow => {
    const domain = repos.domains.require(name);
    if (domain.name === TEMPLATE_DOMAIN)
      throw new ValidationError([{ path: ['domain'], message: 'the _default template has no DKIM keys' }]);
    return domain;
  };

  const list = (domain: DomainRow): DkimKeyInfo[] => {
    const active = activeInfo(domain);
    const others = repos.dkimKeys
      .list(domain.id)
      .map((k) => info(domain, k))
      .sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || (a.createdAt ?? 0) - (b.createdAt ?? 0));
    return active ? [active, ...others] : others;
  };

  return {
    /** Every key of the domain: the active one first, then staged, then retiring (oldest first). */
    list(domainName: string): DkimKeyInfo[] {
      const domain = repos.domains.require(domainName);
      return domain.name === TEMPLATE_DOMAIN ? [] : list(domain);
    },

    /** Generates and stores a staged key (the domain's key type and size unless given). */
    async stage(
      domainName: string,
      opts: { selector: string; keyType?: DkimKeyType; keySize?: number },
      actor = 'system',
    ): Promise<DkimKeyInfo> {
      const domain = hosted(domainName);
      const selector = normalizeSelector(opts.selector);
      const keyType = opts.keyType ?? domain.dkim_key_type;
      const issues: Issue[] = [];
      if (keyType !== 'rsa' && keyType !== 'ed25519')
        issues.push({ path: ['keyType'], message: 'must be rsa or ed25519' });
      let keySize = 256;
      if (keyType === 'rsa') {
        keySize = opts.keySize ?? domain.dkim_key_size;
        if (!(RSA_KEY_SIZES as readonly number[]).includes(keySize))
          issues.push({ path: ['keySize'], message: `must be ${RSA_KEY_SIZES.join(', ')}` });
      }
      if (issues.length) throw new ValidationError(issues);
      const inUse =
        domain.dkim_selector.toLowerCase() === selector ||
        repos.dkimKeys.list(domain.id).some((k) => k.selector.toLowerCase() === selector);
      if (inUse) throw new ConflictError(`DKIM selector "${selector}" is already in use for ${domain.name}`);
      const pair = await generateDkimKey(keyType, keySize);
      // Generation takes a while: the domain is read again, and the repository rechecks the selector.
      const row = repos.dkimKeys.stage(hosted(domain.name), {
        selector,
        key_type: keyType,
        key_size: keySize,
        private_key: pair.privateKey,
        public_key: pair.publicKey,
      });
      repos.audit.record(actor, 'dkim.stage', 'domain', domain.name, { selector, keyType, keySize });
      return info(domain, row);
    },

    /** Makes a staged key the active one; the previous active key becomes retiring. Returns the new active key. */
    activate(domainName: string, selector: string, actor = 'system'): DkimKeyInfo {
      const domain = hosted(domainName);
      const s = normalizeSelector(selector);
      const previous = domain.dkim_selector;
      const row = repos.dkimKeys.activate(domain.name, s);
      repos.audit.record(actor, 'dkim.activate', 'domain', domain.name, { selector: s, previous });
      return activeInfo(row)!;
    },

    /** Deletes a staged or retiring key for good; returns it as it was. The active key cannot be retired. */
    retire(domainName: string, selector: string, actor = 'system'): DkimKeyInfo {
      const domain = hosted(domainName);
      const s = normalizeSelector(selector);
      if (domain.dkim_selector.toLowerCase() === s && !repos.dkimKeys.get(domain.id, s))
        throw new ConflictError(
          `DKIM key ${s}._domainkey.${domain.name} is the active key; activate another key before retiring it`,
        );
      const row = repos.dkimKeys.retire(domain, s);
      repos.audit.record(actor, 'dkim.retire', 'domain', domain.name, { selector: s, status: row.status });
      return info(domain, row);
    },
  };
}

export type DkimRotation = ReturnType<typeof createDkimRotation>;
