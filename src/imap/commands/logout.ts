// LOGOUT (RFC 3501 6.1.3). Rules: untagged BYE, tagged OK, then the connection closes.
import { anyState, noArgs } from './types.ts';

export const logout = anyState({
  name: 'LOGOUT',
  noTagged: true,
  parse: noArgs('LOGOUT'),
  async run(s, _, tag) {
    s.untagged('BYE Mailyard logging out');
    await s.writeAsync([`${tag} OK LOGOUT completed\r\n`]);
    s.socket.end();
    s.close();
    return undefined;
  },
});
