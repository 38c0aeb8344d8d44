/**
 * DkimKey: one published DKIM key of a domain (active, staged or retiring), as dkim/rotation.ts lists it.
 * Field: Domain.dkimKeys. Mutations: stageDkimKey, activateDkimKey, retireDkimKey, each returning the key or a
 * typed error (NotFoundError for an unknown domain or selector, ConflictError for a selector in use, retiring the
 * active key or activating a key that is not staged, ValidationError naming the argument).
 */
import type { DkimKeyInfo } from '../../dkim/rotation.ts';
import { builder } from '../builder.ts';
import { mapInputErrors } from '../inputPaths.ts';
import { Domain } from './domain.ts';
import { DkimKeyTypeEnum } from './domainSettings.ts';
import { MUTATION_ERRORS } from './errors.ts';

const DkimKeyStatusEnum = builder.enumType('DkimKeyStatus', {
  values: {
    ACTIVE: { value: 'active', description: 'Signs outgoing mail.' },
    STAGED: { value: 'staged', description: 'Published, not signing yet: activate it once its record is in DNS.' },
    RETIRING: {
      value: 'retiring',
      description: 'Previously active, still published; retire it when mail has settled.',
    },
  },
});

export const DkimKey = builder.objectRef<DkimKeyInfo>('DkimKey').implement({
  fields: (t) => ({
    selector: t.exposeString('selector'),
    status: t.field({ type: DkimKeyStatusEnum, resolve: (k) => k.status }),
    keyType: t.field({ type: DkimKeyTypeEnum, resolve: (k) => k.keyType }),
    keySize: t.exposeInt('keySize', { description: 'RSA modulus length; 256 for Ed25519.' }),
    dnsName: t.exposeString('dnsName', { description: 'Where to publish the record: <selector>._domainkey.<domain>.' }),
    dnsRecord: t.exposeString('dnsRecord', { description: 'The TXT record value to publish at dnsName.' }),
    createdAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the key was generated; null for the active key.',
      resolve: (k) => k.createdAt,
    }),
  }),
});

builder.objectField(Domain, 'dkimKeys', (t) =>
  t.field({
    type: [DkimKey],
    description: 'Every DKIM key of the domain: the active one first, then staged, then retiring.',
    resolve: (d, _args, ctx) => ctx.dkim.list(d.name),
  }),
);

const keyType = (v: unknown) => (v as 'rsa' | 'ed25519' | null | undefined) ?? undefined;

builder.mutationFields((t) => ({
  stageDkimKey: t.field({
    type: DkimKey,
    errors: { types: MUTATION_ERRORS },
    description:
      'Generates a staged DKIM key under a new selector (the domain’s key type and size unless given). Publish its record, then activate it.',
    args: {
      domain: t.arg.string({ required: true }),
      selector: t.arg.string({ required: true }),
      keyType: t.arg({ type: DkimKeyTypeEnum, required: false }),
      keySize: t.arg.int({ required: false }),
    },
    resolve: (_root, args, ctx) =>
      mapInputErrors(
        (p) => p,
        () =>
          ctx.dkim.stage(
            args.domain,
            { selector: args.selector, keyType: keyType(args.keyType), keySize: args.keySize ?? undefined },
            ctx.auth.actor,
          ),
      ),
  }),
  activateDkimKey: t.field({
    type: DkimKey,
    errors: { types: MUTATION_ERRORS },
    description:
      'Makes a staged key the active (signing) key; the previous active key becomes retiring and stays published.',
    args: { domain: t.arg.string({ required: true }), selector: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) =>
      mapInputErrors(
        (p) => p,
        () => ctx.dkim.activate(args.domain, args.selector, ctx.auth.actor),
      ),
  }),
  retireDkimKey: t.field({
    type: DkimKey,
    errors: { types: MUTATION_ERRORS },
    description: 'Deletes a staged or retiring key for good (returned as it was); the active key cannot be retired.',
    args: { domain: t.arg.string({ required: true }), selector: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) =>
      mapInputErrors(
        (p) => p,
        () => ctx.dkim.retire(args.domain, args.selector, ctx.auth.actor),
      ),
  }),
}));
