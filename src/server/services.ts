/**
 * The services the composition root (app.ts) builds once and hands to the API front ends (GraphQL and REST).
 * Rules: types only; what is here is shared by every front end and owned by none of them.
 */
import type { AppPasswordService } from '../accounts/appPasswords.ts';
import type { AccountService } from '../accounts/service.ts';
import type { SessionService } from '../accounts/sessions.ts';
import type { TotpService } from '../accounts/totp.ts';
import type { IpAccess } from '../auth/ipAccess.ts';
import type { Config } from '../config/load.ts';
import type { DkimRotation } from '../dkim/rotation.ts';
import type { DomainService } from '../domains/service.ts';
import type { EventBus } from '../events/bus.ts';
import type { QueueAdmin } from '../queue/admin.ts';
import type { Repos } from '../repos/index.ts';

export interface Services {
  repos: Repos;
  bus: EventBus;
  domains: DomainService;
  accounts: AccountService;
  /** Users' TOTP second factor (enrolment, confirmation, verification, disabling). */
  totp: TotpService;
  appPasswords: AppPasswordService;
  /** API login sessions, API tokens and domain administrators (auth/principal.ts checks authority). */
  sessions: SessionService;
  /** Login blocks and the allow list (auth/bruteForce.ts enforces them). */
  ipAccess: IpAccess;
  dkim: DkimRotation;
  /** Outbound queue retry/delete (with spool file clean-up and audit). */
  queue: QueueAdmin;
  config: Config;
  adminToken: string;
}
