/**
 * STARTTLS (RFC 3501 6.2.1, RFC 2595). Rules: refused on implicit-TLS connections and after TLS; the tagged OK is
 * written, then the TLS handshake starts on the same socket; anything the client pipelined after STARTTLS is
 * discarded (a plaintext injection defence: RFC 3501 6.2.1); after the handshake the reader starts empty.
 */
import tls from 'node:tls';
import { ImapNo } from '../protocol/types.ts';
import { noArgs, notAuthenticated } from './types.ts';

export const starttls = notAuthenticated({
  name: 'STARTTLS',
  noTagged: true,
  parse: noArgs('STARTTLS'),
  async run(s, _, tag) {
    if (s.tls) throw new ImapNo('TLS is already active');
    await s.writeAsync([`${tag} OK Begin TLS negotiation now\r\n`]);
    const plain = s.socket;
    // Only the session's own listeners move to the TLS socket; the reader drops what it buffered.
    plain.off('error', s.onSocketGone);
    plain.off('close', s.onSocketGone);
    s.reader.detach();
    // The live certificates (tls/store.ts): the default one, or the one for the name the client asks for.
    const secure = new tls.TLSSocket(plain, {
      isServer: true,
      secureContext: s.deps.tls.context(),
      SNICallback: s.deps.tls.SNICallback,
    });
    s.reader = s.reader.switchSocket(secure);
    s.socket = secure;
    secure.on('error', s.onSocketGone);
    secure.on('close', s.onSocketGone);
    plain.on('error', s.onSocketGone);
    return undefined;
  },
});
