/**
 * RENAME (RFC 3501 6.3.5). Rules: children move with their parent; the index is renamed first (commit), then the
 * Maildir++ folders; renaming INBOX moves its messages into the new mailbox (files linked, then an atomic
 * index move) and leaves INBOX empty.
 */
import type { Session } from '../session.ts';
import { mailboxArg, newMailboxName, noMore } from './args.ts';
import { moveMessages } from './copy.ts';
import { mapRepoError } from './mailboxErrors.ts';
import { AUTH, type CommandSpec } from './types.ts';

export const rename: CommandSpec = {
  name: 'RENAME',
  states: AUTH,
  async handler(s: Session, args) {
    const from = mailboxArg(args[0]);
    const to = newMailboxName(args[1]);
    noMore(args, 2, 'RENAME');
    const user = s.user!;
    let result: ReturnType<typeof s.deps.repos.mailboxes.rename>;
    try {
      result = s.deps.repos.mailboxes.rename(user.id, from, to);
    } catch (e) {
      mapRepoError(e);
    }
    for (const [a, b] of result.renamed) user.files.renameFolder(a, b);
    // Parents the rename created (Work for Work/Projects) get their Maildir++ folder too, as CREATE does.
    const parts = to.split('/');
    for (let i = 1; i < parts.length; i++) user.files.ensure(parts.slice(0, i).join('/'));
    if (s.selected && result.renamed.length) {
      const fresh = s.deps.repos.mailboxes.byId(s.selected.id);
      if (fresh) s.selected.box = fresh;
    }
    if (result.movedFromInbox) {
      const inbox = s.deps.repos.mailboxes.get(user.id, 'INBOX')!;
      user.files.ensure(result.movedFromInbox.target.name);
      await moveMessages(s, inbox, result.movedFromInbox.target, result.movedFromInbox.uids);
    }
    return undefined;
  },
};
