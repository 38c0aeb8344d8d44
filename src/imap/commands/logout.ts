// LOGOUT (RFC 3501 6.1.3). Rules: untagged BYE, tagged OK, then the connection closes.
import { noMore } from './args.ts';
import { ANY, type CommandSpec } from './types.ts';

export const logout: CommandSpec = {
  name: 'LOGOUT',
  states: ANY,
  noTagged: true,
  async handler(s, args, tag) {
    noMore(args, 0, 'LOGOUT');
    s.untagged('BYE Mailyard logging out');
    await s.writeAsync([`${tag} OK LOGOUT completed\r\n`]);
    s.socket.end();
    s.close();
    return undefined;
  },
};
