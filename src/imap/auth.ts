/**
 * IMAP authentication (RFC 3501 6.2.2-6.2.3, RFC 4616 PLAIN) goes through the protocol-neutral login of
 * src/auth/login.ts; this module only names its user type for the IMAP session code. Rules: as login.ts (full
 * address, case-insensitive; disabled users and domains refused like a wrong password, the log says why).
 */
export type { AuthUser } from '../auth/login.ts';
