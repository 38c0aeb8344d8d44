/**
 * AUTHENTICATE (RFC 3501 6.2.2) with PLAIN (RFC 4616) and SASL-IR (RFC 4959). Rules: only PLAIN is offered (over
 * TLS, or where plaintext is allowed); an empty initial response "=" means an empty string; a client may cancel
 * with "*" (BAD); the authorization identity must be empty or equal to the authentication identity.
 */
import { ImapBad, ImapNo } from '../protocol/types.ts';
import { atomArg, noMore } from './args.ts';
import { completeLogin } from './login.ts';
import { notAuthenticated } from './types.ts';

export const authenticate = notAuthenticated({
  name: 'AUTHENTICATE',
  parse(args) {
    const mech = atomArg(args[0], 'a SASL mechanism').toUpperCase();
    noMore(args, 2, 'AUTHENTICATE');
    if (mech !== 'PLAIN') throw new ImapNo(`Unsupported mechanism ${mech.slice(0, 20)}`, 'CANNOT');
    return { initial: args[1] ? atomArg(args[1], 'a base64 initial response') : undefined };
  },
  async run(s, { initial }) {
    if (!s.plaintextAllowed()) throw new ImapNo('Use STARTTLS before authenticating', 'PRIVACYREQUIRED');
    let response: string;
    if (initial !== undefined) response = initial;
    else {
      s.write(['+ \r\n']);
      const line = await s.reader.readLine();
      if (!line) {
        s.close();
        return undefined;
      }
      response = line.line.toString('latin1');
    }
    if (response === '*') throw new ImapBad('Authentication cancelled');
    if (response !== '=' && !/^[A-Za-z0-9+/]*={0,2}$/.test(response)) throw new ImapBad('Invalid base64');
    const decoded = response === '=' ? '' : Buffer.from(response, 'base64').toString('utf8');
    const parts = decoded.split('\0');
    if (parts.length !== 3) throw new ImapBad('Invalid PLAIN response');
    const [authz, authc, pass] = parts as [string, string, string];
    if (authz && authz.toLowerCase() !== authc.toLowerCase())
      throw new ImapNo('Authorization identity must be empty or your own', 'AUTHORIZATIONFAILED');
    return completeLogin(s, authc, pass);
  },
});
