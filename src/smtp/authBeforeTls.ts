/**
 * No AUTH before TLS on a STARTTLS port (RFC 8314 3.3, RFC 4954 4): smtp-server refuses AUTH on a plaintext
 * connection when allowInsecureAuth is off, but its EHLO still lists "AUTH PLAIN LOGIN" there, inviting clients
 * to send a password in the clear, and the refusal carries its generic 5.7.0. Rules: on a connection that is not
 * secure, of a server with allowInsecureAuth off that offers STARTTLS, the AUTH line is left out of the EHLO reply,
 * and smtp-server's 538 goes out as REPLIES.encryptionRequired (538 5.7.11, RFC 5248's "Encryption required for
 * requested authentication mechanism"); once TLS is up EHLO lists AUTH as usual; every other reply is untouched.
 * Like replies.ts' patch this wraps SMTPConnection#send on the class prototype, once, and leans on smtp-server
 * internals (`secure`, `_server.options`, `_isSupported`, the EHLO reply being one array); test/smtp/submissionAuth
 * .test.ts fails if an upgrade breaks them.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { REPLIES } from './replies.ts';

interface Connection {
  secure: boolean;
  _server: { options: { allowInsecureAuth?: boolean; hideSTARTTLS?: boolean } };
  _isSupported(command: string): boolean;
}

let installed = false;

export function useNoAuthBeforeTls(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as {
    send(this: Connection, code: number, data: unknown, context?: unknown): unknown;
  };
  const original = proto.send;
  proto.send = function (this: Connection, code: number, data: unknown, context?: unknown) {
    const o = this._server?.options;
    if (!this.secure && o && !o.allowInsecureAuth && !o.hideSTARTTLS && this._isSupported('STARTTLS')) {
      if (code === 250 && Array.isArray(data))
        return original.call(
          this,
          code,
          data.filter((l) => !(typeof l === 'string' && /^AUTH /i.test(l))),
          context,
        );
      if (code === 538) {
        const r = REPLIES.encryptionRequired();
        return original.call(this, r.code, `${r.enhanced} ${r.text}`, context);
      }
    }
    return original.call(this, code, data, context);
  };
}
