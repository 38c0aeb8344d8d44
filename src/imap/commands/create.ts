// CREATE (RFC 3501 6.3.3, RFC 6154 USE). Rules: missing parents are created; INBOX exists already; the Maildir++
// folder is created with the row; an optional (USE (\Sent)) sets the SPECIAL-USE attribute.
import type { MailboxRow } from '../../repos/rows.ts';
import { ImapBad, ImapNo } from '../protocol/types.ts';
import { atomArg, listArg, newMailboxName } from './args.ts';
import { mapRepoError } from './mailboxErrors.ts';
import { authenticated } from './types.ts';

const USES = ['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive', '\\All', '\\Flagged'] as const;

export const create = authenticated({
  name: 'CREATE',
  parse(args) {
    const name = newMailboxName(args[0]);
    let use: MailboxRow['special_use'] = null;
    if (args[1]) {
      const p = listArg(args[1], 'create parameters');
      if (atomArg(p[0], 'USE').toUpperCase() !== 'USE') throw new ImapBad('Unknown CREATE parameter');
      const list = listArg(p[1], 'special-use list');
      if (list.length > 1) throw new ImapNo('Only one special use per mailbox', 'USEATTR');
      if (list[0]) {
        const v = atomArg(list[0], 'a special-use attribute');
        const found = USES.find((u) => u.toLowerCase() === v.toLowerCase());
        if (!found) throw new ImapNo(`Unsupported special use ${v.slice(0, 20)}`, 'USEATTR');
        use = found;
      }
    }
    if (args.length > 2) throw new ImapBad('Too many arguments to CREATE');
    if (name === 'INBOX') throw new ImapNo('INBOX already exists', 'ALREADYEXISTS');
    return { name, use };
  },
  run(s, { name, use }) {
    try {
      s.deps.mail.createMailbox(s.user, name, use);
    } catch (e) {
      mapRepoError(e);
    }
    return undefined;
  },
});
