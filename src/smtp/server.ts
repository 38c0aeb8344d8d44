/**
 * SMTP listeners (MX on relay_port, submission with STARTTLS, SMTPS with implicit TLS) on smtp-server.
 * Rules: TLS material comes from tls/; the MX port offers no AUTH; SIZE advertises smtp.max_message_size.
 * Current stage: the foundation only. Mail is not accepted yet: RCPT gets 451 4.3.2 (a temporary failure, so
 * sending MTAs keep the message and retry) and AUTH gets 454 4.7.0. Local delivery arrives with the inbound
 * SMTP issue, submission with the outbound issue.
 */
import { SMTPServer } from 'smtp-server';
import type { Config } from '../config/load.ts';
import type { Logger } from '../log/logger.ts';
import { type Bindable, listenPromise } from '../server/listener.ts';
import type { TlsMaterial } from '../tls/certificates.ts';

export type SmtpRole = 'mx' | 'submission' | 'smtps';

export function createSmtpServer(role: SmtpRole, config: Config, tls: TlsMaterial, log: Logger): Bindable {
  const server = new SMTPServer({
    name: config.server.hostname,
    banner: 'Mailyard ESMTP',
    secure: role === 'smtps',
    key: tls.key,
    cert: tls.cert,
    size: config.smtp.max_message_size,
    hideSize: false,
    logger: false,
    disabledCommands: role === 'mx' ? ['AUTH'] : [],
    authOptional: role === 'mx',
    allowInsecureAuth: false,
    closeTimeout: config.server.shutdown_timeout * 1000,
    onAuth(_auth, _session, cb) {
      const err = Object.assign(new Error('4.7.0 Authentication is not available yet, try again later'), {
        responseCode: 454,
      });
      cb(err);
    },
    onRcptTo(_address, _session, cb) {
      const err = Object.assign(new Error('4.3.2 This server is not accepting mail yet, try again later'), {
        responseCode: 451,
      });
      cb(err);
    },
    onData(stream, _session, cb) {
      stream.resume();
      stream.on('end', () => cb(Object.assign(new Error('4.3.2 Not accepting mail yet'), { responseCode: 451 })));
    },
  });
  server.on('error', (err) => log.warn({ err, role }, 'smtp server error'));
  return {
    listen: (port, address) => listenPromise(server.server, port, address),
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        server.options.closeTimeout = graceMs;
        server.close(() => resolve());
      }),
  };
}
