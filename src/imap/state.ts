/**
 * The session as command modules see it (RFC 3501 3: the connection states). Rules: this module imports no
 * command and no session (commands import it, the session implements it: no import cycle); the state is a
 * discriminated union carrying its data; `user` is set exactly in the Authenticated and Selected states and
 * `selected` exactly in the Selected state, and the guards below narrow a session by those values.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.ts';
import type { AuthUser } from './auth.ts';
import type { ImapDeps } from './context.ts';
import type { MailboxListener } from './hub.ts';
import type { CommandReader } from './protocol/reader.ts';
import type { Chunk } from './protocol/writer.ts';
import type { SelectedMailbox } from './selected.ts';

export type SessionState =
  | { kind: 'notAuthenticated' }
  | { kind: 'authenticated'; user: AuthUser }
  | { kind: 'selected'; user: AuthUser; box: SelectedMailbox; unwatch: () => void }
  | { kind: 'logout' };

export type StateKind = SessionState['kind'];

/** What a command may return: extra text/code for the tagged OK. */
export interface Done {
  code?: string;
  text?: string;
}

/** One connection, in any state. */
export interface CommandSession extends MailboxListener {
  readonly id: number;
  state: SessionState;
  readonly user: AuthUser | null;
  readonly selected: SelectedMailbox | null;
  readonly deps: ImapDeps;
  readonly log: Logger;
  /** Changes once, with STARTTLS. */
  socket: Socket;
  reader: CommandReader;
  readonly tls: boolean;
  readonly isClosed: boolean;
  /** ENABLEd extensions (RFC 5161). */
  readonly enabled: Set<string>;
  /** CONDSTORE was enabled or used (RFC 7162 3.1: MODSEQ in FETCH responses from then on). */
  condstoreUsed: boolean;
  readonly condstore: boolean;
  readonly qresync: boolean;
  authFailures: number;
  /** Set by a command that must end the connection after its tagged reply (BYE text). */
  byeAfterReply: string | null;
  idling: { wake(): void } | null;
  readonly clientId: Record<string, string>;
  readonly onSocketGone: () => void;
  write(chunks: Chunk[]): boolean;
  writeAsync(chunks: Chunk[]): Promise<void>;
  untagged(text: string): void;
  capabilities(): string[];
  plaintextAllowed(): boolean;
  syncSelected(allowExpunge: boolean): Promise<void>;
  deselect(): void;
  close(): void;
}

/** The Authenticated state, or Selected (RFC 3501 3.2). */
export interface AuthenticatedSession extends CommandSession {
  readonly user: AuthUser;
}

/** The Selected state (RFC 3501 3.3). */
export interface SelectedSession extends AuthenticatedSession {
  readonly selected: SelectedMailbox;
}

export function isAuthenticated(s: CommandSession): s is AuthenticatedSession {
  return s.user !== null;
}

export function isSelected(s: CommandSession): s is SelectedSession {
  return s.user !== null && s.selected !== null;
}
