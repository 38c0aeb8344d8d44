// The command table (one module per command or command family; each declares its state, parser and runner).
import { append } from './append.ts';
import { authenticate } from './authenticate.ts';
import { capability } from './capability.ts';
import { check } from './check.ts';
import { close, unselect } from './close.ts';
import { copy, move, uidCopy, uidMove } from './copy.ts';
import { create } from './create.ts';
import { del } from './delete.ts';
import { enable } from './enable.ts';
import { expunge, uidExpunge } from './expunge.ts';
import { fetch, uidFetch } from './fetch.ts';
import { id } from './id.ts';
import { idle } from './idle.ts';
import { list, lsub } from './list.ts';
import { login } from './login.ts';
import { logout } from './logout.ts';
import { namespace } from './namespace.ts';
import { noop } from './noop.ts';
import { getquota, getquotaroot, setquota } from './quota.ts';
import { rename } from './rename.ts';
import { search, uidSearch } from './search.ts';
import { examine, select } from './select.ts';
import { starttls } from './starttls.ts';
import { status } from './status.ts';
import { store, uidStore } from './store.ts';
import { subscribe, unsubscribe } from './subscribe.ts';
import type { CommandSpec } from './types.ts';

const ALL: CommandSpec[] = [
  capability,
  noop,
  logout,
  id,
  starttls,
  authenticate,
  login,
  enable,
  namespace,
  select,
  examine,
  create,
  del,
  rename,
  subscribe,
  unsubscribe,
  list,
  lsub,
  status,
  append,
  idle,
  getquota,
  getquotaroot,
  setquota,
  check,
  close,
  unselect,
  expunge,
  uidExpunge,
  search,
  uidSearch,
  fetch,
  uidFetch,
  store,
  uidStore,
  copy,
  uidCopy,
  move,
  uidMove,
];

export const COMMANDS = new Map(ALL.map((c) => [c.name, c]));
