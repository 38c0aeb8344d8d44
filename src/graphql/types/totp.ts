/**
 * TOTP second factor of users. Mutations: enrolTotp, confirmTotp, disableTotp (User.totpEnabled shows the
 * state). Rules: the secret and the recovery codes are returned once, by enrolTotp and confirmTotp, and never
 * again; a wrong code is an AuthenticationError and changes nothing; a user enrols, confirms and disables its
 * own TOTP (disabling needs a code), an administrator of the user's domain may disable it without a code; who may
 * call what is in access.ts (enrolTotp and confirmTotp work before enrolment where the domain enforces TOTP).
 */
import type { TotpEnrolment } from '../../accounts/totp.ts';
import { canManageUser } from '../../auth/principal.ts';
import { ForbiddenError } from '../../repos/errors.ts';
import { builder } from '../builder.ts';
import { mapInputErrors, under } from '../inputPaths.ts';
import { CREDENTIAL_MUTATION_ERRORS, MUTATION_ERRORS } from './errors.ts';
import { User } from './user.ts';

const Enrolment = builder.objectRef<TotpEnrolment>('TotpEnrolment').implement({
  description: 'A pending TOTP secret: TOTP is on only once confirmTotp accepts a code for it.',
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The secret, base32.' }),
    uri: t.exposeString('uri', { description: 'The otpauth:// URI for authenticator apps.' }),
    qrSvgDataUrl: t.exposeString('qrSvgDataUrl', { description: 'The URI as an SVG QR code (a data: URL).' }),
  }),
});

interface ConfirmationShape {
  email: string;
  recoveryCodes: string[];
}

const Confirmation = builder.objectRef<ConfirmationShape>('TotpConfirmation').implement({
  fields: (t) => ({
    recoveryCodes: t.exposeStringList('recoveryCodes', {
      description: 'Single-use recovery codes, shown only this once.',
    }),
    user: t.field({ type: User, resolve: (c, _a, ctx) => ctx.repos.users.require(c.email) }),
  }),
});

builder.mutationFields((t) => ({
  enrolTotp: t.field({
    type: Enrolment,
    errors: { types: MUTATION_ERRORS },
    description: 'Starts TOTP enrolment: a new secret, pending until confirmTotp. Refused while TOTP is on.',
    args: { email: t.arg.string({ required: true }) },
    resolve: (_r, { email }, ctx) => mapInputErrors(under(), () => ctx.totp.enrol(ctx.auth.actor, email)),
  }),
  confirmTotp: t.field({
    type: Confirmation,
    errors: { types: CREDENTIAL_MUTATION_ERRORS },
    description: 'Turns TOTP on with a valid code for the pending secret; returns the recovery codes.',
    args: { email: t.arg.string({ required: true }), code: t.arg.string({ required: true }) },
    resolve: (_r, { email, code }, ctx) =>
      mapInputErrors(under(), async () => {
        const { recoveryCodes } = await ctx.totp.confirm(ctx.auth.actor, email, code);
        return { email: ctx.repos.users.require(email).email, recoveryCodes };
      }),
  }),
  disableTotp: t.field({
    type: User,
    errors: { types: CREDENTIAL_MUTATION_ERRORS },
    description:
      'Turns TOTP off, given a current code or a recovery code; an administrator of the user’s domain may leave the code out.',
    args: { email: t.arg.string({ required: true }), code: t.arg.string({ required: false }) },
    resolve: (_r, { email, code }, ctx) =>
      mapInputErrors(under(), () => {
        if (code !== null && code !== undefined) return ctx.totp.disable(ctx.auth.actor, email, code);
        if (!canManageUser(ctx.auth, email))
          throw new ForbiddenError('a TOTP or recovery code is needed to turn TOTP off');
        return ctx.totp.disable(ctx.auth.actor, email, { admin: true });
      }),
  }),
}));
