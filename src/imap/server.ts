/**
 * IMAP listeners (imap.port with STARTTLS, imap.imaps_port with implicit TLS).
 * Current stage: the foundation only. Every connection is greeted with an untagged BYE (RFC 3501 7.1.5) naming
 * the reason, so clients show a clear error instead of hanging; the IMAP issue replaces this with the server.
 */
import net from 'node:net';
import tls from 'node:tls';
import { type Bindable, listenPromise } from '../server/listener.ts';
import type { TlsMaterial } from '../tls/certificates.ts';

const BYE = '* BYE [UNAVAILABLE] Mailyard IMAP is not enabled in this version\r\n';

export function createImapServer(implicitTls: boolean, material: TlsMaterial): Bindable {
  const sockets = new Set<net.Socket>();
  const onConnection = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.end(BYE);
  };
  const server = implicitTls
    ? tls.createServer({ key: material.key, cert: material.cert }, onConnection)
    : net.createServer(onConnection);
  return {
    listen: (port, address) => listenPromise(server, port, address),
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
