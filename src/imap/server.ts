/**
 * IMAP listeners (imap.port with STARTTLS, imap.imaps_port with implicit TLS). Rules: one Session per
 * connection; beyond imap.max_connections a connection is greeted with BYE and closed; close() stops accepting,
 * tells open sessions BYE when the grace period ends and destroys them.
 */
import net from 'node:net';
import tls from 'node:tls';
import { type Bindable, listenPromise } from '../net/listener.ts';
import type { ImapDeps } from './context.ts';
import { Session } from './session.ts';

export function createImapServer(implicitTls: boolean, deps: ImapDeps): Bindable {
  const sessions = new Set<Session>();
  const onConnection = (socket: net.Socket) => {
    if (sessions.size >= deps.config.imap.max_connections) {
      socket.on('error', () => socket.destroy());
      socket.end('* BYE [UNAVAILABLE] Too many connections, try again later\r\n');
      return;
    }
    const s = new Session(socket, deps, implicitTls);
    sessions.add(s);
    // The session, not the socket: after STARTTLS the session lives on another socket object.
    s.closeHooks.push(() => sessions.delete(s));
    s.run().catch((err) => {
      deps.log.error({ err }, 'imap session failed');
      s.close();
    });
  };
  const server = implicitTls
    ? tls.createServer({ ...deps.tls.options(), SNICallback: deps.tls.SNICallback }, onConnection)
    : net.createServer(onConnection);
  server.on('tlsClientError', () => {});
  // A reload of the certificates replaces the default context for new handshakes (open sessions keep theirs).
  const unwatch =
    server instanceof tls.Server ? deps.tls.onChange(() => server.setSecureContext(deps.tls.options())) : () => {};
  return {
    listen: (port, address) => listenPromise(server, port, address),
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        unwatch();
        const timer = setTimeout(() => {
          for (const s of sessions) {
            s.write(['* BYE Server shutting down\r\n']);
            s.close();
          }
        }, graceMs);
        timer.unref();
        // Idle sessions have nothing in flight: tell them now.
        for (const s of sessions)
          if (s.idling || !s.busy) {
            s.write(['* BYE Server shutting down\r\n']);
            s.socket.end();
            s.close();
          }
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
