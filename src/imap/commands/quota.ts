/**
 * GETQUOTAROOT, GETQUOTA, SETQUOTA (RFC 9208, RFC 2087). Rules: every mailbox of a user has the quota root ""
 * with one resource, STORAGE, in KiB (usage rounded up); a user without a limit has a root with no resources;
 * SETQUOTA is for administrators (the GraphQL API), so it is refused with NOPERM.
 */
import { ImapNo } from '../protocol/types.ts';
import { encode } from '../protocol/writer.ts';
import type { AuthenticatedSession } from '../state.ts';
import { mailboxArg, noMore, text } from './args.ts';
import { authenticated } from './types.ts';

function writeQuota(s: AuthenticatedSession): void {
  const q = s.deps.mail.quota(s.user.email);
  const res = q.limit > 0 ? `STORAGE ${Math.ceil(q.used / 1024)} ${Math.floor(q.limit / 1024)}` : '';
  s.untagged(`QUOTA "" (${res})`);
}

export const getquotaroot = authenticated({
  name: 'GETQUOTAROOT',
  parse(args) {
    const name = mailboxArg(args[0]);
    noMore(args, 1, 'GETQUOTAROOT');
    return name;
  },
  run(s, name) {
    if (!s.deps.index.mailboxes.get(s.user.id, name)) throw new ImapNo(`Mailbox ${name} does not exist`, 'NONEXISTENT');
    s.write(['* QUOTAROOT ', ...encode(name), ' ""\r\n']);
    writeQuota(s);
    return undefined;
  },
});

export const getquota = authenticated({
  name: 'GETQUOTA',
  parse(args) {
    const root = args[0] ? text(args[0], 'a quota root') : undefined;
    noMore(args, 1, 'GETQUOTA');
    return root;
  },
  run(s, root) {
    if (root !== '') throw new ImapNo('No such quota root', 'NONEXISTENT');
    writeQuota(s);
    return undefined;
  },
});

export const setquota = authenticated({
  name: 'SETQUOTA',
  // Refused whatever its arguments say.
  parse: () => undefined,
  run() {
    throw new ImapNo('Quotas are set by the administrator', 'NOPERM');
  },
});
