// ID (RFC 2971). Rules: the client's fields are kept for logs (at most 30 pairs); the server answers its name.
import { VERSION } from '../../version.ts';
import { ImapBad } from '../protocol/types.ts';
import { encode } from '../protocol/writer.ts';
import { need, noMore, text } from './args.ts';
import { anyState } from './types.ts';

export const id = anyState({
  name: 'ID',
  /** The client's field/value pairs, or null for NIL. */
  parse(args): [string, string][] | null {
    const t = need(args, 0, 'ID parameter list or NIL');
    noMore(args, 1, 'ID');
    if (t.type === 'list') {
      if (t.items.length % 2 || t.items.length > 60) throw new ImapBad('ID expects up to 30 field/value pairs');
      const fields: [string, string][] = [];
      for (let i = 0; i < t.items.length; i += 2) {
        const v = t.items[i + 1]!;
        fields.push([
          text(t.items[i]!, 'a field name').slice(0, 30),
          v.type === 'atom' && v.value.toUpperCase() === 'NIL' ? '' : text(v, 'a value').slice(0, 1024),
        ]);
      }
      return fields;
    }
    if (!(t.type === 'atom' && t.value.toUpperCase() === 'NIL')) throw new ImapBad('ID expects a list or NIL');
    return null;
  },
  run(s, fields) {
    if (fields) {
      for (const [k, v] of fields) s.clientId[k] = v;
      s.log.debug({ client: s.clientId }, 'imap client id');
    }
    s.write(['* ID ', ...encode(['name', 'Mailyard', 'version', VERSION, 'vendor', 'Mailyard']), '\r\n']);
    return undefined;
  },
});
