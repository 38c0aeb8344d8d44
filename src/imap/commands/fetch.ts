/**
 * FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2; RFC 7162 3.1.4 CHANGEDSINCE, 3.2.6 VANISHED). Rules: every item is
 * validated before anything is read or changed; a message file is read and parsed at most once per message and
 * only when an item needs its content; BODY[...] (not PEEK), RFC822 and RFC822.TEXT set \Seen in a read-write
 * mailbox (committed before the answer, which then includes FLAGS); responses are written message by message
 * with backpressure; a message whose file is missing is logged and answered with what the index has.
 */

import { flagsOf } from '../../repos/messages.ts';
import type { MessageRow } from '../../repos/rows.ts';
import { type ParsedMessage, parsedMessage, parseSectionSpec } from '../mime/index.ts';
import { inSequenceSet, type SeqRange, toSequenceSet } from '../protocol/sequenceSet.ts';
import { atom, ImapBad, type ImapValue, type Token } from '../protocol/types.ts';
import { type Chunk, encode } from '../protocol/writer.ts';
import type { SelectedSession } from '../state.ts';
import { atomArg, formatDateTime, listArg, numberArg } from './args.ts';
import { sequenceSetArg, uidsOf } from './sets.ts';
import { selected } from './types.ts';

type Simple = 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY' | 'UID' | 'MODSEQ';

type Item =
  | { kind: 'simple'; name: Simple }
  | { kind: 'rfc822'; name: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  | {
      kind: 'section';
      label: string;
      peek: boolean;
      spec: ReturnType<typeof parseSectionSpec>;
      partial?: [number, number];
    };

const MACROS: Record<string, Simple[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const SIMPLE = new Set<string>([
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODYSTRUCTURE',
  'BODY',
  'UID',
  'MODSEQ',
]);

function sectionText(tokens: Token[]): string {
  return tokens
    .map((t) =>
      t.type === 'atom'
        ? t.value.toUpperCase()
        : t.type === 'list'
          ? `(${t.items
              .map((i) => (i.type === 'string' ? i.value.toString('latin1') : i.type === 'atom' ? i.value : ''))
              .join(' ')
              .toUpperCase()})`
          : t.value.toString('latin1'),
    )
    .join(' ');
}

export function parseItems(t: Token | undefined): Item[] {
  if (!t) throw new ImapBad('Missing FETCH items');
  if (t.type === 'atom' && !t.section && MACROS[t.value.toUpperCase()])
    return MACROS[t.value.toUpperCase()]!.map((name) => ({ kind: 'simple', name }));
  const list = t.type === 'list' ? t.items : [t];
  if (!list.length) throw new ImapBad('Empty FETCH item list');
  return list.map((i): Item => {
    if (i.type !== 'atom') throw new ImapBad('Invalid FETCH item');
    const name = i.value.toUpperCase();
    if (i.section) {
      if (name !== 'BODY' && name !== 'BODY.PEEK') throw new ImapBad(`Unsupported FETCH item ${name.slice(0, 20)}[]`);
      if (i.partial && !Number.isFinite(i.partial[1])) throw new ImapBad('Partial fetch needs <offset.length>');
      const spec = parseSectionSpec(i.section);
      return {
        kind: 'section',
        label: `BODY[${sectionText(i.section)}]${i.partial ? `<${i.partial[0]}>` : ''}`,
        peek: name === 'BODY.PEEK',
        spec,
        partial: i.partial,
      };
    }
    if (i.partial) throw new ImapBad('Partial fetch only applies to BODY[]');
    if (name === 'RFC822' || name === 'RFC822.HEADER' || name === 'RFC822.TEXT') return { kind: 'rfc822', name };
    if (SIMPLE.has(name)) return { kind: 'simple', name: name as Simple };
    if (MACROS[name]) throw new ImapBad(`${name} must be used alone`);
    throw new ImapBad(`Unknown FETCH item ${name.slice(0, 30)}`);
  });
}

function needsContent(items: Item[]): boolean {
  return items.some(
    (i) => i.kind !== 'simple' || i.name === 'ENVELOPE' || i.name === 'BODYSTRUCTURE' || i.name === 'BODY',
  );
}

function setsSeen(items: Item[]): boolean {
  return items.some((i) => (i.kind === 'section' && !i.peek) || (i.kind === 'rfc822' && i.name !== 'RFC822.HEADER'));
}

const VANISHED_NEEDS = 'VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC enabled';

interface FetchArgs {
  set: SeqRange[];
  items: Item[];
  changedSince?: number;
  vanished: boolean;
}

function parse(byUid: boolean) {
  return (args: Token[]): FetchArgs => {
    const items = parseItems(args[1]);
    let changedSince: number | undefined;
    let vanished = false;
    if (args[2]) {
      const mods = listArg(args[2], 'fetch modifiers');
      for (let i = 0; i < mods.length; i++) {
        const m = atomArg(mods[i], 'a fetch modifier').toUpperCase();
        if (m === 'CHANGEDSINCE') changedSince = numberArg(mods[++i], 'CHANGEDSINCE');
        else if (m === 'VANISHED') vanished = true;
        else throw new ImapBad(`Unknown FETCH modifier ${m.slice(0, 30)}`);
      }
      // Whether QRESYNC is enabled is the session's: checked when the command runs.
      if (vanished && (!byUid || changedSince === undefined)) throw new ImapBad(VANISHED_NEEDS);
      if (args.length > 3) throw new ImapBad('Too many FETCH arguments');
    }
    if (changedSince !== undefined && !items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ'))
      items.push({ kind: 'simple', name: 'MODSEQ' });
    if (byUid && !items.some((i) => i.kind === 'simple' && i.name === 'UID'))
      items.unshift({ kind: 'simple', name: 'UID' });
    return { set: sequenceSetArg(args[0]), items, changedSince, vanished };
  };
}

function run(byUid: boolean) {
  return async (s: SelectedSession, { set, items, changedSince, vanished }: FetchArgs) => {
    const box = s.selected;
    const user = s.user;
    if (vanished && !s.qresync) throw new ImapBad(VANISHED_NEEDS);
    if (items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ')) s.condstoreUsed = true;
    const uids = uidsOf(box, set, byUid);
    if (vanished && changedSince !== undefined) {
      // The UID set as written, with * as the highest UID ever assigned (expunged ones included).
      const star = (s.deps.index.mailboxes.byId(box.id)?.uidnext ?? 1) - 1;
      const gone = s.deps.index.messages.expungedSince(box.id, changedSince).filter((u) => inSequenceSet(set, u, star));
      if (gone.length) s.untagged(`VANISHED (EARLIER) ${toSequenceSet(gone)}`);
    }
    const flagsChanged = new Set<number>();
    if (setsSeen(items) && !box.readOnly) {
      const r = s.deps.mail.setFlags(user, box.box, uids, 'add', ['\\Seen']);
      box.own(r.changed[0]?.modseq ?? 0);
      await r.files;
      for (const c of r.changed) flagsChanged.add(c.uid);
    }
    const wantsFlags = items.some((i) => i.kind === 'simple' && i.name === 'FLAGS');
    const content = needsContent(items);
    let missing = 0;
    for (let from = 0; from < uids.length; from += 200) {
      const batch = uids.slice(from, from + 200);
      const all = s.deps.index.messages.rows(box.id, batch);
      missing += batch.length - all.length;
      const rows = all.filter(
        (row) => (changedSince === undefined || row.modseq > changedSince) && box.seqOf(row.uid) > 0,
      );
      const reads = content ? readAhead(rows, (row) => s.deps.mail.read(user, box.box.name, row)) : null;
      for (const [k, row] of rows.entries()) {
        const seq = box.seqOf(row.uid);
        let msg: ParsedMessage | undefined;
        if (reads) {
          try {
            msg = parsedMessage(await reads(k));
          } catch (err) {
            s.log.error({ err, mailbox: box.box.name, uid: row.uid }, 'imap fetch: message file unreadable');
            msg = parsedMessage(Buffer.alloc(0));
          }
        }
        const out: Chunk[] = [`* ${seq} FETCH (`];
        let first = true;
        const add = (label: string, v: ImapValue) => {
          out.push(first ? `${label} ` : ` ${label} `);
          first = false;
          encode(v, false, out);
        };
        for (const it of items) add(...writeItem(it, row, msg, box.recent.has(row.uid)));
        if (flagsChanged.has(row.uid) && !wantsFlags) add('FLAGS', flagList(row, box.recent.has(row.uid)));
        out.push(')\r\n');
        await s.writeAsync(out);
      }
    }
    // RFC 2180 4.1.3 / RFC 5530: messages another session expunged are not answered; the client may NOOP.
    if (missing > 0) return { code: 'EXPUNGEISSUED', text: 'Some messages were expunged by another session' };
    return undefined;
  };
}

/** Reads of message files kept in flight ahead of the one being answered: at most this many ... */
const READ_AHEAD = 8;
/** ... and, beyond the first, at most this many bytes (message sizes from the index). */
const READ_AHEAD_BYTES = 1024 * 1024;

/**
 * Message files are read a few at a time ahead of the response being written, so a FETCH of many messages waits
 * for one round of file I/O rather than one per message. The function returned gives row k's read (started now if needed).
 */
function readAhead(rows: MessageRow[], read: (row: MessageRow) => Promise<Buffer>): (k: number) => Promise<Buffer> {
  const started: (Promise<Buffer> | null)[] = []; // null: handed out (not kept, so memory stays bounded)
  return (k) => {
    let bytes = 0;
    for (let j = k; j < rows.length && j < k + READ_AHEAD; j++) {
      if (j > k && bytes + rows[j]!.size > READ_AHEAD_BYTES) break;
      bytes += rows[j]!.size;
      if (started[j] === undefined) {
        const p = read(rows[j]!);
        p.catch(() => {}); // a failure is handled when row j is answered
        started[j] = p;
      }
    }
    const p = started[k]!;
    started[k] = null;
    return p;
  };
}

function flagList(row: MessageRow, recent: boolean): ImapValue {
  const f = flagsOf(row).map(atom);
  if (recent) f.push(atom('\\Recent'));
  return f;
}

function writeItem(it: Item, row: MessageRow, msg: ParsedMessage | undefined, recent: boolean): [string, ImapValue] {
  if (it.kind === 'simple') {
    switch (it.name) {
      case 'UID':
        return ['UID', row.uid];
      case 'FLAGS':
        return ['FLAGS', flagList(row, recent)];
      case 'INTERNALDATE':
        return ['INTERNALDATE', formatDateTime(row.internal_date)];
      case 'RFC822.SIZE':
        return ['RFC822.SIZE', row.size];
      case 'MODSEQ':
        return ['MODSEQ', [row.modseq]];
      case 'ENVELOPE':
        return ['ENVELOPE', msg!.envelope()];
      case 'BODYSTRUCTURE':
        return ['BODYSTRUCTURE', msg!.bodyStructure()];
      case 'BODY':
        return ['BODY', msg!.body()];
    }
  }
  if (it.kind === 'rfc822') {
    const spec = parseSectionSpec(
      it.name === 'RFC822' ? [] : [{ type: 'atom', value: it.name === 'RFC822.HEADER' ? 'HEADER' : 'TEXT' }],
    );
    return [it.name, msg!.section(spec)];
  }
  return [it.label, msg!.section(it.spec, it.partial)];
}

export const fetch = selected({ name: 'FETCH', parse: parse(false), run: run(false), expungeAllowed: false });
export const uidFetch = selected({ name: 'UID FETCH', parse: parse(true), run: run(true), syncBefore: true });
