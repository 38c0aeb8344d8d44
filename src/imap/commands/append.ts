/**
 * APPEND (RFC 3501 6.3.11, RFC 4315 APPENDUID, RFC 7888 LITERAL+, RFC 9208 quota). Rules: the literal's size was
 * checked against smtp.max_message_size by the reader before it was read (NO [TOOBIG]); an empty message is
 * refused; a missing mailbox is NO [TRYCREATE]; the file is written and fsync'd before the index commit, which
 * checks the quota (NO [OVERQUOTA], file removed); the answer carries APPENDUID, preceded by EXISTS when the
 * target is the selected mailbox.
 */

import { ImapBad, ImapNo } from '../protocol/types.ts';
import { atomArg, flagsArg, mailboxArg, parseDateTime } from './args.ts';
import { mapRepoError } from './mailboxErrors.ts';
import { authenticated } from './types.ts';

export const append = authenticated({
  name: 'APPEND',
  parse(args) {
    const name = mailboxArg(args[0]);
    let i = 1;
    let flags: string[] = [];
    let date = Date.now();
    if (args[i]?.type === 'list') flags = flagsArg(args[i++]);
    const maybeDate = args[i];
    if (maybeDate?.type === 'string' && !maybeDate.literal) {
      date = parseDateTime(maybeDate.value.toString('latin1'));
      i++;
    } else if (maybeDate?.type === 'atom') atomArg(maybeDate, 'a date-time or the message literal');
    const msg = args[i];
    if (msg?.type !== 'string') throw new ImapBad('APPEND needs the message as a literal');
    if (args.length > i + 1) throw new ImapBad('MULTIAPPEND is not supported');
    return { name, flags, date, data: msg.value };
  },
  async run(s, { name, flags, date, data }) {
    if (!data.length) throw new ImapNo('Cannot append an empty message');
    if (data.length > s.deps.config.smtp.max_message_size)
      throw new ImapNo(`Message larger than ${s.deps.config.smtp.max_message_size} bytes`, 'TOOBIG');
    const user = s.user;
    const box = s.deps.index.mailboxes.get(user.id, name);
    if (!box) throw new ImapNo(`Mailbox ${name} does not exist`, 'TRYCREATE');
    let r: Awaited<ReturnType<typeof s.deps.mail.append>>;
    try {
      r = await s.deps.mail.append(user, box, data, flags, date);
    } catch (e) {
      mapRepoError(e);
    }
    // Into the selected mailbox: EXISTS is due at the end of this command (RFC 3501 6.3.11), but the bus delivers
    // the change later, so the session learns of its own message now.
    if (s.selected?.id === box.id)
      s.selected.onChange({ userId: user.id, mailboxId: box.id, kind: 'exists', uids: [r.uid], modseq: r.modseq });
    return { code: `APPENDUID ${r.uidvalidity} ${r.uid}`, text: 'APPEND completed' };
  },
});
