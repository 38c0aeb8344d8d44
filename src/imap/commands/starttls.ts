/**
 * STARTTLS (RFC 3501 6.2.1, RFC 2595). Rules: refused on implicit-TLS connections and after TLS; the tagged OK is
 * written, then the TLS handshake starts on the same socket; anything the client pipelined after STARTTLS is
 * discarded (a plaintext injection defence: RFC 3501 6.2.1); after the handshake the reader starts empty.
 */
import tls from 'node:tls';
import { ImapNo } from '../protocol/types.ts';
import { noMore } from './args.ts';
import { type CommandSpec, NOT_AUTH } from './types.ts';

export const starttls: CommandSpec = {
  name: 'STARTTLS',
  states: NOT_AUTH,
  noTagged: true,
  async handler(s, args, tag) {
    noMore(args, 0, 'STARTTLS');
    if (s.tls) throw new ImapNo('TLS is already active');
    await s.writeAsync([`${tag} OK Begin TLS negotiation now\r\n`]);
    const plain = s.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('end');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = new tls.TLSSocket(plain, {
      isServer: true,
      key: s.deps.tls.key,
      cert: s.deps.tls.cert,
      minVersion: 'TLSv1.2',
    });
    s.socket = secure;
    s.reader = s.reader.switchSocket(secure);
    secure.on('error', () => s.close());
    secure.on('close', () => s.close());
    plain.on('error', () => s.close());
    return undefined;
  },
};
