/**
 * The selected mailbox of a session (RFC 3501 2.3.1, 5.2, 7.4.1). Rules: `uids` is what the client knows
 * (sequence number = index + 1) and changes only when this session reports it: new messages as EXISTS, removed
 * ones as EXPUNGE (highest sequence number first, so lower numbers stay valid while the list is sent), never
 * EXPUNGE while a FETCH, STORE or SEARCH by sequence number is running; flag changes made by other sessions are
 * reported as untagged FETCH; changes this session made itself (recognised by their mod-sequence) are not
 * repeated. Events may arrive before or after the SELECT read the index; both orders give the same result.
 */
import { flagsOf } from '../repos/messages.ts';
import type { MailboxRow } from '../repos/rows.ts';
import type { AuthUser } from './auth.ts';
import type { ImapDeps } from './context.ts';
import type { MailboxChange } from './hub.ts';
import { lowerBound, toSequenceSet } from './protocol/sequenceSet.ts';

/** What the selected mailbox needs of its session (declared here: this module imports no session). */
export interface MailboxSession {
  readonly deps: ImapDeps;
  readonly user: AuthUser | null;
  readonly selected: SelectedMailbox | null;
  readonly condstore: boolean;
  readonly qresync: boolean;
  untagged(text: string): void;
}

export class SelectedMailbox {
  uids: number[];
  recent: Set<number>;
  private pendingExpunge = new Set<number>();
  private pendingFlags = new Set<number>();
  /** Highest UID announced by an event. */
  private newest: number;
  /** Highest UID this session has ever known (never lowered by expunges: new messages always lie above it). */
  private maxSeen: number;
  /** The mailbox (or a parent) was renamed: reload the row before the next file access. */
  stale = false;
  private ownModseqs = new Set<number>();
  deleted = false;
  highestModseq: number;

  constructor(
    public box: MailboxRow,
    readonly readOnly: boolean,
    uids: number[],
    recent: Set<number>,
  ) {
    this.uids = uids;
    this.recent = recent;
    this.newest = uids.length ? uids[uids.length - 1]! : 0;
    this.maxSeen = this.newest;
    this.highestModseq = box.highestmodseq;
  }

  get id(): number {
    return this.box.id;
  }

  seqOf(uid: number): number {
    const i = lowerBound(this.uids, uid);
    return this.uids[i] === uid ? i + 1 : 0;
  }

  /** Marks a mod-sequence as produced by this session (its own STORE already answered with FETCH). */
  own(modseq: number): void {
    if (modseq) this.ownModseqs.add(modseq);
  }

  onChange(c: MailboxChange): void {
    if (c.modseq > this.highestModseq) this.highestModseq = c.modseq;
    switch (c.kind) {
      case 'exists':
        for (const u of c.uids) if (u > this.newest) this.newest = u;
        break;
      case 'expunge':
        for (const u of c.uids) {
          this.pendingExpunge.add(u);
          this.pendingFlags.delete(u);
        }
        break;
      case 'flags':
        if (this.ownModseqs.delete(c.modseq)) break;
        for (const u of c.uids) this.pendingFlags.add(u);
        break;
      case 'deleted':
        this.deleted = true;
        break;
      case 'renamed':
        this.stale = true;
        break;
      default:
        break;
    }
  }

  /** NOOP and CHECK: indexes mail other software put into this mailbox, for the command to report. */
  async pickUp(s: MailboxSession & { readonly user: AuthUser }): Promise<void> {
    const user = s.user;
    const r = await s.deps.mail.pickUp(user, this.box);
    if (r && s.selected === this)
      this.onChange({ userId: user.id, mailboxId: this.id, kind: 'exists', uids: r.uids, modseq: r.modseq });
  }

  hasPending(): boolean {
    return this.pendingExpunge.size > 0 || this.pendingFlags.size > 0 || this.newest > this.maxSeen || this.deleted;
  }

  /**
   * Removes `uids` from what the client knows and tells it: `n EXPUNGE` highest sequence number first (lower
   * numbers stay valid while the list is sent), or one `VANISHED` under QRESYNC (RFC 7162 3.2.10). With
   * `silent` (CLOSE), only the removal.
   */
  reportExpunged(s: MailboxSession, uids: readonly number[], silent = false): void {
    const seqs = uids
      .map((u) => this.seqOf(u))
      .filter((n) => n > 0)
      .sort((a, b) => b - a);
    const gone = seqs.map((n) => this.uids[n - 1]!);
    for (const u of gone) this.recent.delete(u);
    for (const n of seqs) {
      this.uids.splice(n - 1, 1);
      if (!silent && !s.qresync) s.untagged(`${n} EXPUNGE`);
    }
    if (!silent && s.qresync && gone.length) s.untagged(`VANISHED ${toSequenceSet(gone.sort((a, b) => a - b))}`);
  }

  /** Reports pending changes to the client. */
  async sync(s: MailboxSession, allowExpunge: boolean): Promise<void> {
    if (this.deleted) return;
    if (allowExpunge && this.pendingExpunge.size) {
      const gone = [...this.pendingExpunge];
      this.pendingExpunge.clear();
      this.reportExpunged(s, gone);
    }
    if (this.newest > this.maxSeen) {
      const added = s.deps.index.messages
        .uidsAbove(this.box.id, this.maxSeen)
        .filter((u) => !this.pendingExpunge.has(u));
      // The index is the truth: whatever it does not show up to `newest` was expunged before we looked.
      this.maxSeen = Math.max(this.newest, added.length ? added[added.length - 1]! : 0);
      this.newest = this.maxSeen;
      if (added.length) {
        this.uids.push(...added);
        if (!this.readOnly) for (const u of s.deps.hub.claimRecent(this.box.id, added)) this.recent.add(u);
        s.untagged(`${this.uids.length} EXISTS`);
        s.untagged(`${this.recent.size} RECENT`);
      }
    }
    if (this.pendingFlags.size) {
      const rows = s.deps.index.messages.rows(
        this.box.id,
        [...this.pendingFlags].sort((a, b) => a - b),
      );
      this.pendingFlags.clear();
      for (const r of rows) {
        const seq = this.seqOf(r.uid);
        if (!seq) continue;
        const flags = flagsOf(r);
        if (this.recent.has(r.uid)) flags.push('\\Recent');
        s.untagged(
          `${seq} FETCH (UID ${r.uid} FLAGS (${flags.join(' ')})${s.condstore ? ` MODSEQ (${r.modseq})` : ''})`,
        );
      }
    }
  }
}
