/**
 * SMTP listeners (MX on relay_port, submission with STARTTLS, SMTPS with implicit TLS) on smtp-server.
 * Rules: TLS material comes from tls/; EHLO advertises PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES,
 * SIZE and (before TLS) STARTTLS; the MX port offers no AUTH, hides DSN and delivers locally (inbound.ts);
 * submission and SMTPS (submission.ts) require AUTH (PLAIN, LOGIN; only over TLS) before MAIL and advertise DSN.
 */
import { SMTPServer } from 'smtp-server';
import type { Config } from '../config/load.ts';
import type { Logger } from '../log/logger.ts';
import { type Bindable, listenPromise } from '../net/listener.ts';
import { useNoAuthBeforeTls } from './authBeforeTls.ts';
import { type InboundDeps, inboundHandlers } from './inbound.ts';
import { useExplicitEnhancedCodes } from './replies.ts';
import { type SubmissionDeps, submissionHandlers } from './submission.ts';

useExplicitEnhancedCodes();
useNoAuthBeforeTls();

import type { TlsStore } from '../tls/store.ts';

export type SmtpRole = 'mx' | 'submission' | 'smtps';

export function createSmtpServer(
  role: SmtpRole,
  config: Config,
  tls: TlsStore,
  log: Logger,
  inbound: InboundDeps,
  submission: SubmissionDeps,
): Bindable {
  const server = new SMTPServer({
    name: config.server.hostname,
    banner: 'Mailyard',
    secure: role === 'smtps',
    ...tls.options(),
    // Certificates by the name the client asks for; a reload replaces the default context below.
    SNICallback: tls.SNICallback,
    size: config.smtp.max_message_size,
    hideSize: false,
    logger: false,
    disabledCommands: role === 'mx' ? ['AUTH'] : [],
    authOptional: role === 'mx',
    allowInsecureAuth: false,
    closeTimeout: config.server.shutdown_timeout * 1000,
    socketTimeout: config.smtp.timeout * 1000,
    maxClients: config.smtp.max_connections,
    // DSN (RFC 3461) on submission only: the MX keeps it hidden for now.
    hideDSN: role === 'mx',
    hideENHANCEDSTATUSCODES: false,
    // smtp-server's reverse lookup would use the system resolver; every lookup must go through dns.servers.
    disableReverseLookup: true,
    ...(role === 'mx' ? inboundHandlers(inbound) : submissionHandlers(submission)),
  });
  server.on('error', (err) => log.warn({ err, role }, 'smtp server error'));
  const unwatch = tls.onChange(() => server.updateSecureContext(tls.options()));
  // Replies are small writes answered by the client's next command: without TCP_NODELAY, Nagle's algorithm and
  // the peer's delayed ACK stall every round trip by up to 40 ms.
  server.server.on('connection', (socket: import('node:net').Socket) => socket.setNoDelay(true));
  return {
    listen: (port, address) => listenPromise(server.server, port, address),
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        unwatch();
        server.options.closeTimeout = graceMs;
        server.close(() => resolve());
      }),
  };
}
