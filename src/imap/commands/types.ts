/**
 * The shape of a command module: the states it is allowed in, its handler, and whether pending EXPUNGEs may be
 * reported when it ends (RFC 3501 7.4.1: not after FETCH, STORE or SEARCH by sequence number).
 */
import type { Token } from '../protocol/types.ts';
import type { Done, Session, StateKind } from '../session.ts';

export interface CommandSpec {
  name: string;
  states: readonly StateKind[];
  handler(s: Session, args: Token[], tag: string): Promise<Done | undefined> | Done | undefined;
  expungeAllowed?: boolean;
  /**
   * Report pending changes before running (UID commands: their arguments do not depend on sequence numbers, so
   * the client gets fresh EXPUNGE/EXISTS first and the UID set covers new messages).
   */
  syncBefore?: boolean;
  /** The handler wrote its own tagged response (LOGOUT). */
  noTagged?: boolean;
}

export const ANY: readonly StateKind[] = ['notAuthenticated', 'authenticated', 'selected'];
export const NOT_AUTH: readonly StateKind[] = ['notAuthenticated'];
export const AUTH: readonly StateKind[] = ['authenticated', 'selected'];
export const SELECTED: readonly StateKind[] = ['selected'];
