// ENABLE (RFC 5161). Rules: only extensions we implement are enabled (CONDSTORE, QRESYNC which implies CONDSTORE);
// others are ignored; the untagged ENABLED lists what this command newly enabled.
import { ImapBad } from '../protocol/types.ts';
import { atomArg } from './args.ts';
import { AUTH, type CommandSpec } from './types.ts';

const KNOWN = new Set(['CONDSTORE', 'QRESYNC']);

export const enable: CommandSpec = {
  name: 'ENABLE',
  states: AUTH,
  handler(s, args) {
    if (!args.length) throw new ImapBad('ENABLE needs at least one capability');
    const now: string[] = [];
    for (const a of args) {
      const cap = atomArg(a, 'a capability name').toUpperCase();
      const adds = cap === 'QRESYNC' ? ['QRESYNC', 'CONDSTORE'] : [cap];
      for (const c of adds)
        if (KNOWN.has(c) && !s.enabled.has(c)) {
          s.enabled.add(c);
          now.push(c);
        }
    }
    s.untagged(`ENABLED${now.length ? ` ${now.join(' ')}` : ''}`);
    return undefined;
  },
};
