/**
 * LIST and LSUB (RFC 3501 6.3.8-6.3.9) with LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154), CHILDREN (RFC 3348)
 * and LIST-STATUS (RFC 5819). Rules: `*` matches across levels, `%` within one; the reference is a prefix of the
 * pattern; "INBOX" matches case-insensitively; special-use attributes are always returned (clients rely on them);
 * \HasChildren/\HasNoChildren are always returned; a missing parent of an existing mailbox is listed as
 * \Noselect \HasChildren; `LIST "" ""` answers the delimiter and root.
 */
import type { MailboxRow } from '../../repos/rows.ts';
import { ImapBad, type Token } from '../protocol/types.ts';
import { encode } from '../protocol/writer.ts';
import type { AuthenticatedSession } from '../state.ts';
import { atomArg, listArg, text } from './args.ts';
import { statusItems, writeStatus } from './status.ts';
import { authenticated } from './types.ts';

interface Entry {
  name: string;
  box?: MailboxRow;
  children: boolean;
}

/** A compiled LIST pattern: '*' matches anything, '%' anything but the delimiter. */
export type Pattern = string;

/**
 * Matches `name` against a LIST pattern by simulating the pattern as an automaton: O(name x pattern) time in the
 * worst case, never the exponential backtracking a regular expression with many stars can take.
 */
export function globMatch(pattern: Pattern, name: string): boolean {
  const p = pattern.replace(/[*%]*\*[*%]*/g, '*');
  const n = p.length;
  let cur = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  const close = (set: Uint8Array) => {
    for (let i = 0; i < n; i++) if (set[i] && (p[i] === '*' || p[i] === '%')) set[i + 1] = 1;
  };
  cur[0] = 1;
  close(cur);
  for (let k = 0; k < name.length; k++) {
    const ch = name[k];
    next.fill(0);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!cur[i]) continue;
      const pc = p[i];
      if (pc === '*' || (pc === '%' && ch !== '/')) {
        next[i] = 1;
        any = true;
      } else if (pc === ch) {
        next[i + 1] = 1;
        any = true;
      }
    }
    if (!any) return false;
    close(next);
    [cur, next] = [next, cur];
  }
  return cur[n] === 1;
}

function matches(name: string, patterns: Pattern[], inboxPatterns: Pattern[]): boolean {
  if (name === 'INBOX' || name.startsWith('INBOX/')) {
    const lower = `inbox${name.slice(5)}`;
    return inboxPatterns.some((r) => globMatch(r, lower)) || patterns.some((r) => globMatch(r, name));
  }
  return patterns.some((r) => globMatch(r, name));
}

function entries(boxes: MailboxRow[]): Entry[] {
  const byName = new Map<string, Entry>();
  for (const b of boxes) byName.set(b.name, { name: b.name, box: b, children: false });
  for (const b of boxes) {
    const parts = b.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const e = byName.get(parent);
      if (e) e.children = true;
      else byName.set(parent, { name: parent, children: true });
    }
  }
  return [...byName.values()].sort((a, b) =>
    a.name === 'INBOX' ? -1 : b.name === 'INBOX' ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
}

interface ListArgs {
  selection: Set<string>;
  returns: Set<string>;
  statusList?: string[];
  /** `LIST "" ""`: only the delimiter and root are asked for. */
  delimiterOnly: boolean;
  /** The patterns with the reference applied, and the same with a leading INBOX (any case) as "inbox". */
  res: Pattern[];
  inboxRes: Pattern[];
}

function parse(args: Token[], lsub: boolean): ListArgs {
  let i = 0;
  const selection = new Set<string>();
  if (!lsub && args[0]?.type === 'list') {
    for (const t of args[0].items) selection.add(atomArg(t, 'a selection option').toUpperCase());
    for (const o of selection)
      if (!['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE'].includes(o))
        throw new ImapBad(`Unknown LIST selection option ${o.slice(0, 30)}`);
    if (selection.has('RECURSIVEMATCH') && selection.size === 1)
      throw new ImapBad('RECURSIVEMATCH needs another option');
    i++;
  }
  const refTok = args[i++];
  const patTok = args[i++];
  if (!refTok || !patTok) throw new ImapBad('LIST needs a reference and a mailbox pattern');
  const reference = text(refTok, 'a reference');
  const patterns = patTok.type === 'list' ? patTok.items.map((t) => text(t, 'a pattern')) : [text(patTok, 'a pattern')];
  const returns = new Set<string>();
  let statusList: string[] | undefined;
  if (args[i]) {
    if (lsub || atomArg(args[i], 'RETURN').toUpperCase() !== 'RETURN') throw new ImapBad('Unexpected LIST argument');
    const opts = listArg(args[i + 1], 'return options');
    for (let j = 0; j < opts.length; j++) {
      const o = atomArg(opts[j], 'a return option').toUpperCase();
      if (o === 'STATUS') statusList = statusItems(listArg(opts[++j], 'status items'));
      else if (['SUBSCRIBED', 'CHILDREN', 'SPECIAL-USE'].includes(o)) returns.add(o);
      else throw new ImapBad(`Unknown LIST return option ${o.slice(0, 30)}`);
    }
    if (args.length > i + 2) throw new ImapBad('Too many arguments to LIST');
  }
  const delimiterOnly = !lsub && patterns.length === 1 && patterns[0] === '' && !selection.size;
  const full = patterns.filter((p) => p !== '').map((p) => (p.startsWith('/') ? p.slice(1) : reference + p));
  if (full.some((p) => p.length > 1024)) throw new ImapBad('LIST pattern too long');
  const inboxRes = full.map((p) => (p.toLowerCase().startsWith('inbox') ? `inbox${p.slice(5)}` : p));
  return { selection, returns, statusList, delimiterOnly, res: full, inboxRes };
}

async function run(s: AuthenticatedSession, a: ListArgs, lsub: boolean) {
  const { selection, returns, statusList, res, inboxRes } = a;
  if (a.delimiterOnly) {
    s.untagged('LIST (\\Noselect) "/" ""');
    return undefined;
  }
  const all = s.deps.index.mailboxes.list(s.user.id);
  const verb = lsub ? 'LSUB' : 'LIST';
  // RFC 3501 6.3.9: LSUB "" % must return "foo" (as \Noselect) when "foo/bar" is subscribed but "foo" is not.
  const subscribedNames = all.filter((b) => b.subscribed).map((b) => b.name);
  const hiddenSubscribedChild = (name: string) =>
    subscribedNames.some((n) => n.startsWith(`${name}/`) && !matches(n, res, inboxRes));
  for (const e of entries(all)) {
    if (!matches(e.name, res, inboxRes)) continue;
    const subscribed = !!e.box?.subscribed;
    if (lsub && !subscribed && hiddenSubscribedChild(e.name)) {
      s.write(['* LSUB (\\Noselect) "/" ', ...encode(e.name), '\r\n']);
      continue;
    }
    if ((lsub || selection.has('SUBSCRIBED')) && !subscribed) continue;
    if (selection.has('SPECIAL-USE') && !e.box?.special_use) continue;
    const attrs: string[] = [];
    if (!e.box) attrs.push(lsub ? '\\Noselect' : '\\NonExistent');
    if (!lsub || e.box) attrs.push(e.children ? '\\HasChildren' : '\\HasNoChildren');
    if (e.box?.special_use) attrs.push(e.box.special_use);
    if ((selection.has('SUBSCRIBED') || returns.has('SUBSCRIBED')) && subscribed) attrs.push('\\Subscribed');
    if (!e.box && !lsub) attrs.unshift('\\Noselect');
    s.write([`* ${verb} (${[...new Set(attrs)].join(' ')}) "/" `, ...encode(e.name), '\r\n']);
    if (statusList && e.box) await writeStatus(s, e.box, statusList);
  }
  return undefined;
}

export const list = authenticated({
  name: 'LIST',
  parse: (args) => parse(args, false),
  run: (s, a) => run(s, a, false),
});
export const lsub = authenticated({ name: 'LSUB', parse: (args) => parse(args, true), run: (s, a) => run(s, a, true) });
