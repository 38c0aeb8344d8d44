/**
 * Two-factor authentication with TOTP for users: enrolment, confirmation, verification, disabling. Rules:
 * enrolling stores a new secret as pending (TOTP stays as it was) and returns it once, with its otpauth:// URI
 * and that URI as an SVG QR code; only a valid code for the pending secret activates it, and returns 10 recovery
 * codes, shown once and stored only hashed; enrolling while TOTP is on is a ConflictError (disable first).
 * verify() accepts a current code (one step of tolerance either way) for a step later than the last accepted
 * one, which it then records (replay protection), or an unspent recovery code, which it spends. Disabling needs
 * a valid code or recovery code (an AuthenticationError otherwise), or an administrator. Secrets are encrypted
 * with `key` (deriveKey(server secret, 'totp'), read on first use); `now` is the clock (milliseconds), which
 * tests move. Every change is audited. otplib and qrcode load on first use, so they do not delay the start.
 */
import { AuthenticationError, ConflictError } from '../repos/errors.ts';
import type { Repos } from '../repos/index.ts';
import type { UserRow } from '../repos/rows.ts';

export interface TotpServiceOptions {
  /** The AES-256-GCM key for stored secrets, deriveKey(loadServerSecret(dataDir), 'totp'); asked for on first use. */
  key: () => Buffer;
  /** The issuer shown by authenticator apps. */
  issuer: string;
  now?: () => number;
}

export interface TotpEnrolment {
  /** The secret, base32 (for typing into an app). */
  secret: string;
  /** otpauth://totp/... */
  uri: string;
  /** The URI as a QR code: data:image/svg+xml;base64,... */
  qrSvgDataUrl: string;
}

export interface TotpStatus {
  enabled: boolean;
  /** An enrolment waits for confirmation. */
  pending: boolean;
  recoveryCodesLeft: number;
}

export function createTotpService(repos: Repos, opts: TotpServiceOptions) {
  const now = opts.now ?? Date.now;
  // The TOTP and QR code libraries, loaded on first use.
  let lib: Promise<typeof import('../auth/totp.ts')> | undefined;
  const totp = () => (lib ??= import('../auth/totp.ts'));
  let cachedKey: Buffer | undefined;
  const keyOf = () => (cachedKey ??= opts.key());

  /** Checks a code (TOTP or recovery) for an enabled user, recording its use; true when it is accepted. */
  async function check(user: UserRow, code: string): Promise<'totp' | 'recovery' | null> {
    if (!user.totp_enabled || !user.totp_secret) return null;
    const { decryptSecret, recoveryCodeMatches, verifyTotp } = await totp();
    const trimmed = code.trim();
    if (/^\d{6}$/.test(trimmed.replace(/\s+/g, ''))) {
      const step = await verifyTotp(decryptSecret(keyOf(), user.totp_secret), trimmed, now(), user.totp_last_step);
      return step !== null && repos.totp.acceptStep(user.id, step) ? 'totp' : null;
    }
    for (const row of repos.totp.unusedRecoveryCodes(user.id))
      if (recoveryCodeMatches(trimmed, row.code_hash)) return repos.totp.spendRecoveryCode(row.id) ? 'recovery' : null;
    return null;
  }

  return {
    async enrol(actor: string, email: string): Promise<TotpEnrolment> {
      const user = repos.users.require(email);
      if (user.totp_enabled)
        throw new ConflictError(`TOTP is already enabled for "${user.email}"; disable it before enrolling again`);
      const { encryptSecret, newTotpSecret, totpUri } = await totp();
      const QRCode = (await import('qrcode')).default;
      const secret = newTotpSecret();
      const uri = totpUri(secret, opts.issuer, user.email);
      const svg = await QRCode.toString(uri, { type: 'svg' });
      repos.totp.setPending(user.email, encryptSecret(keyOf(), secret));
      repos.audit.record(actor, 'user.totp_enrol', 'user', user.email);
      return { secret, uri, qrSvgDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
    },

    async confirm(actor: string, email: string, code: string): Promise<{ recoveryCodes: string[] }> {
      const user = repos.users.require(email);
      const pending = user.totp_pending_secret;
      if (!pending) throw new ConflictError(`no TOTP enrolment waits for confirmation for "${user.email}"`);
      const { decryptSecret, hashRecoveryCode, newRecoveryCodes, verifyTotp } = await totp();
      const step = await verifyTotp(decryptSecret(keyOf(), pending), code, now());
      if (step === null) throw new AuthenticationError('the code is not correct');
      const recoveryCodes = newRecoveryCodes();
      if (!repos.totp.activate(user.email, pending, step, recoveryCodes.map(hashRecoveryCode)))
        throw new ConflictError(`the TOTP enrolment of "${user.email}" changed meanwhile; enrol again`);
      repos.audit.record(actor, 'user.totp_enable', 'user', user.email);
      return { recoveryCodes };
    },

    /** Whether `code` (a TOTP code or a recovery code) proves the user's second factor now; see the rules. */
    async verify(email: string, code: string): Promise<boolean> {
      const user = repos.users.get(email);
      if (!user) return false;
      const used = await check(user, code);
      if (used === 'recovery') repos.audit.record(user.email, 'user.totp_recovery_code_used', 'user', user.email);
      return used !== null;
    },

    async disable(actor: string, email: string, proof: string | { admin: true }): Promise<UserRow> {
      const user = repos.users.require(email);
      if (!user.totp_enabled && !user.totp_pending_secret)
        throw new ConflictError(`TOTP is not enabled for "${user.email}"`);
      if (typeof proof === 'string' && (await check(user, proof)) === null)
        throw new AuthenticationError('the code is not correct');
      repos.totp.disable(user.email);
      repos.audit.record(actor, 'user.totp_disable', 'user', user.email, {
        by: typeof proof === 'string' ? 'code' : 'admin',
      });
      return repos.users.require(user.email);
    },

    status(email: string): TotpStatus {
      const user = repos.users.require(email);
      return {
        enabled: user.totp_enabled,
        pending: user.totp_pending_secret !== null,
        recoveryCodesLeft: user.totp_enabled ? repos.totp.unusedRecoveryCodes(user.id).length : 0,
      };
    },
  };
}

export type TotpService = ReturnType<typeof createTotpService>;
