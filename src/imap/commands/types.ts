/**
 * The shape of a command module, declared through one constructor per state (RFC 3501 3, 6: which commands each
 * state allows). Rules: `parse` turns the arguments into a typed value and throws ImapBad for a syntax error (or
 * ImapNo for an argument refused whatever the state, e.g. an unsupported SASL mechanism) without looking at the
 * session; `run` receives the session already narrowed to the declared state and the parsed value, and does
 * everything that depends on the session (resolving a sequence set, read-only checks, mailbox lookups);
 * `expungeAllowed: false` keeps pending EXPUNGEs unreported when the command ends (RFC 3501 7.4.1: not after
 * FETCH, STORE or SEARCH by sequence number).
 */
import type { Token } from '../protocol/types.ts';
import {
  type AuthenticatedSession,
  type CommandSession,
  type Done,
  isAuthenticated,
  isSelected,
  type SelectedSession,
  type StateKind,
} from '../state.ts';
import { noMore } from './args.ts';

export type Outcome = Promise<Done | undefined> | Done | undefined;

/** A command ready to run: its arguments parsed. */
export type ParsedCommand = (s: CommandSession, tag: string) => Outcome;

export interface CommandSpec {
  readonly name: string;
  readonly states: readonly StateKind[];
  /** Parses the arguments (never looking at the session); the result runs the command. */
  parse(args: Token[]): ParsedCommand;
  readonly expungeAllowed?: boolean;
  /**
   * Report pending changes before parsing and running (UID commands: their arguments do not depend on sequence
   * numbers, so the client gets fresh EXPUNGE/EXISTS first and the UID set covers new messages).
   */
  readonly syncBefore?: boolean;
  /** The command wrote its own tagged response (LOGOUT, STARTTLS). */
  readonly noTagged?: boolean;
}

export interface CommandDef<S, A> {
  name: string;
  parse(args: Token[]): A;
  run(s: S, a: A, tag: string): Outcome;
  expungeAllowed?: boolean;
  syncBefore?: boolean;
  noTagged?: boolean;
}

function spec<S extends CommandSession, A>(
  states: readonly StateKind[],
  narrow: (s: CommandSession) => S,
  { name, parse, run, expungeAllowed, syncBefore, noTagged }: CommandDef<S, A>,
): CommandSpec {
  return {
    name,
    states,
    parse(args) {
      const a = parse(args);
      return (s, tag) => run(narrow(s), a, tag);
    },
    expungeAllowed,
    syncBefore,
    noTagged,
  };
}

/** The session checks the state before running a command; these only make that check visible to the types. */
function asAuthenticated(s: CommandSession): AuthenticatedSession {
  if (!isAuthenticated(s)) throw new Error('command run without an authenticated user');
  return s;
}

function asSelected(s: CommandSession): SelectedSession {
  if (!isSelected(s)) throw new Error('command run without a selected mailbox');
  return s;
}

const asIs = (s: CommandSession): CommandSession => s;

/** Allowed in every state (RFC 3501 6.1). */
export function anyState<A>(def: CommandDef<CommandSession, A>): CommandSpec {
  return spec(['notAuthenticated', 'authenticated', 'selected'], asIs, def);
}

/** Allowed before authentication only (RFC 3501 6.2). */
export function notAuthenticated<A>(def: CommandDef<CommandSession, A>): CommandSpec {
  return spec(['notAuthenticated'], asIs, def);
}

/** Allowed once authenticated, with or without a selected mailbox (RFC 3501 6.3). */
export function authenticated<A>(def: CommandDef<AuthenticatedSession, A>): CommandSpec {
  return spec(['authenticated', 'selected'], asAuthenticated, def);
}

/** Allowed with a mailbox selected (RFC 3501 6.4). */
export function selected<A>(def: CommandDef<SelectedSession, A>): CommandSpec {
  return spec(['selected'], asSelected, def);
}

/** `parse` of a command without arguments. */
export function noArgs(name: string): (args: Token[]) => void {
  return (args) => noMore(args, 0, name);
}
