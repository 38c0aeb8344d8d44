// STATUS (RFC 3501 6.3.10, RFC 7162 HIGHESTMODSEQ, RFC 8438 SIZE, RFC 9051 DELETED). Rules: counts come from the
// index; RECENT counts messages no read-write session has seen since start-up; unknown items are BAD.

import type { MailboxRow } from '../../repos/rows.ts';
import { ImapBad, ImapNo } from '../protocol/types.ts';
import { encode } from '../protocol/writer.ts';
import type { AuthenticatedSession } from '../state.ts';
import { atomArg, listArg, mailboxArg, noMore } from './args.ts';
import { authenticated } from './types.ts';

const ITEMS = new Set(['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'HIGHESTMODSEQ', 'SIZE', 'DELETED']);

export function statusItems(list: ReturnType<typeof listArg>): string[] {
  const items = list.map((t) => atomArg(t, 'a status item').toUpperCase());
  for (const i of items) if (!ITEMS.has(i)) throw new ImapBad(`Unknown STATUS item ${i.slice(0, 30)}`);
  if (!items.length) throw new ImapBad('STATUS needs at least one item');
  return items;
}

export async function writeStatus(s: AuthenticatedSession, box: MailboxRow, items: string[]): Promise<void> {
  await s.deps.mail.pickUp(s.user, box);
  const st = s.deps.index.mailboxes.status(box.id);
  const parts: string[] = [];
  for (const i of items) {
    let v: number;
    switch (i) {
      case 'MESSAGES':
        v = st.messages;
        break;
      case 'RECENT':
        v = s.deps.index.messages.countAbove(box.id, s.deps.hub.recentFloor(box.id));
        break;
      case 'UIDNEXT':
        v = st.uidnext;
        break;
      case 'UIDVALIDITY':
        v = st.uidvalidity;
        break;
      case 'UNSEEN':
        v = st.unseen;
        break;
      case 'HIGHESTMODSEQ':
        s.condstoreUsed = true;
        v = st.highestmodseq;
        break;
      case 'SIZE':
        v = st.size;
        break;
      default:
        v = st.deleted;
    }
    parts.push(`${i} ${v}`);
  }
  s.write(['* STATUS ', ...encode(box.name), ` (${parts.join(' ')})\r\n`]);
}

export const status = authenticated({
  name: 'STATUS',
  parse(args) {
    const name = mailboxArg(args[0]);
    const items = statusItems(listArg(args[1], 'status item list'));
    noMore(args, 2, 'STATUS');
    return { name, items };
  },
  async run(s, { name, items }) {
    const box = s.deps.index.mailboxes.get(s.user.id, name);
    if (!box) throw new ImapNo(`Mailbox ${name} does not exist`, 'NONEXISTENT');
    await writeStatus(s, box, items);
    return undefined;
  },
});
