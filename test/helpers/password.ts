// The password test users get: it passes the password policy (src/auth/passwordPolicy.ts: long enough, not a
// common password, no test user's local part in it) and has no spaces or quotes, so it fits IMAP LOGIN as an atom.
export const TEST_PASSWORD = 'quartz-plover-47';
