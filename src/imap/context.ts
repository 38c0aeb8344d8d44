/**
 * What an IMAP session needs from the rest of Mailyard, built once per listener. Rules: every state change goes
 * through `repos`; files through the store's UserMaildir; nothing here holds per-session state.
 */
import type { Config } from '../config/load.ts';
import type { EventBus } from '../events/bus.ts';
import type { Logger } from '../log/logger.ts';
import type { Repos } from '../repos/index.ts';
import type { TlsMaterial } from '../tls/certificates.ts';
import type { ImapHub } from './hub.ts';

export interface ImapDeps {
  config: Config;
  repos: Repos;
  bus: EventBus;
  log: Logger;
  tls: TlsMaterial;
  hub: ImapHub;
}
