/**
 * What an IMAP session needs from the rest of Mailyard, built once per listener. Rules: every change to mailboxes
 * and messages, and every message file read, goes through the mail store (`mail`); the index is read through
 * `index` (read-only queries); logins go through `logins` (auth/login.ts: repositories and brute-force guard); nothing here holds per-session
 * state.
 */
import type { LoginDeps } from '../auth/login.ts';
import type { Config } from '../config/load.ts';
import type { EventBus } from '../events/bus.ts';
import type { Logger } from '../log/logger.ts';
import type { MailIndex, MailStore } from '../store/mailStore.ts';
import type { TlsStore } from '../tls/store.ts';
import type { ImapHub } from './hub.ts';

export interface ImapDeps {
  config: Config;
  mail: MailStore;
  index: MailIndex;
  logins: LoginDeps;
  bus: EventBus;
  log: Logger;
  tls: TlsStore;
  hub: ImapHub;
}
