/**
 * Which sender addresses an authenticated user may use on submission (RFC 6409 6.1: the MSA checks the sender),
 * and the addresses of a message's From header fields. Rules:
 * - A user owns their own address, any plus-address of it (local+tag@domain) and every active alias whose
 *   destinations name them directly (a plus-address of such an alias too); local parts and domains compare
 *   case-insensitively; nothing else (no catch-all, no alias of an alias, no other user's address).
 * - From: every From field of the header section counts (RFC 5322 allows one; a second one must not slip past),
 *   folded lines are unfolded, and each field is parsed with a real RFC 5322 address-list parser (nodemailer's
 *   addressparser, a dependency of smtp-server): groups are flattened, comments and quoted display names are not
 *   addresses. Addresses are judged as written: encoded-words (RFC 2047) only ever belong in display names, so
 *   they are not decoded before parsing (a display name decoded into "<x@y>" never becomes an address), and a
 *   mailbox whose address is an encoded-word is not owned by anyone. A From field with no address at all (or no
 *   From field) is reported as such: the caller refuses it.
 */
import addressparser from 'nodemailer/lib/addressparser';
import type { AuthUser } from '../auth/login.ts';
import type { AliasesRepo } from '../repos/aliases.ts';

export interface SenderDirectory {
  aliases: Pick<AliasesRepo, 'get'>;
}

export function ownsAddress(dir: SenderDirectory, user: Pick<AuthUser, 'email'>, address: string): boolean {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return false;
  const local = address.slice(0, at).toLowerCase();
  const domain = address.slice(at + 1).toLowerCase();
  const me = user.email.toLowerCase();
  const plus = local.indexOf('+');
  const candidates = plus > 0 ? [`${local}@${domain}`, `${local.slice(0, plus)}@${domain}`] : [`${local}@${domain}`];
  for (const c of candidates) {
    if (c === me) return true;
    const alias = dir.aliases.get(c);
    if (alias && alias.status === 'active' && alias.destinations.some((d) => d.toLowerCase() === me)) return true;
  }
  return false;
}

export interface FromHeader {
  /** How many From fields the header section has. */
  fields: number;
  /** Every mailbox address of every From field, as written. */
  addresses: string[];
  /** A From field (or a mailbox in one) without an address. */
  incomplete: boolean;
}

/** The From fields of a header section (the bytes up to the empty line). */
export function fromHeader(head: Buffer): FromHeader {
  const text = head.toString('utf8').replace(/\r?\n(?=[ \t])/g, '');
  const out: FromHeader = { fields: 0, addresses: [], incomplete: false };
  for (const line of text.split(/\r?\n/)) {
    const m = /^from[ \t]*:(.*)$/is.exec(line);
    if (!m) continue;
    out.fields++;
    const list = addressparser(m[1]!.trim(), { flatten: true });
    if (!list.length) out.incomplete = true;
    for (const a of list) {
      if (!a.address) out.incomplete = true;
      else out.addresses.push(a.address);
    }
  }
  return out;
}

/** Whether the header section has a field of this name (case-insensitive). */
export function hasField(head: Buffer, name: string): boolean {
  const re = new RegExp(`(?:^|\\n)${name.replace(/[^a-z0-9-]/gi, '')}[ \\t]*:`, 'i');
  return re.test(head.toString('latin1'));
}
