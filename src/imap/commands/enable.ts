// ENABLE (RFC 5161). Rules: only extensions we implement are enabled (CONDSTORE, QRESYNC which implies CONDSTORE);
// others are ignored; the untagged ENABLED lists what this command newly enabled.
import { ImapBad } from '../protocol/types.ts';
import { atomArg } from './args.ts';
import { authenticated } from './types.ts';

const KNOWN = new Set(['CONDSTORE', 'QRESYNC']);

export const enable = authenticated({
  name: 'ENABLE',
  parse(args) {
    if (!args.length) throw new ImapBad('ENABLE needs at least one capability');
    return args.map((a) => atomArg(a, 'a capability name').toUpperCase());
  },
  run(s, caps) {
    const now: string[] = [];
    for (const cap of caps) {
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
});
