// Lifetimes of daemons that tests start (clamd, spamd): stopping one by its PID, and a scope that lasts for a whole
// test file, so that one daemon slow to start serves every test in the file.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, type TestContext } from 'node:test';
import { needTool } from './tools.ts';

/** What owns a daemon: a TestContext, or fileScope(). Cleanups run in the order they were registered. */
export type Scope = { after(fn: () => unknown): void };

/** Stops a child by PID: SIGTERM, then SIGKILL if it is still there after `graceMs`; resolves once it has exited. */
export async function stopByPid(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * A scope whose cleanups run after all the tests of the file. Call it at the top level of a test file (it registers
 * the file-level after hook there; called inside a test it would end with that test).
 */
export function fileScope(): Scope {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const f of cleanups) await f();
  });
  return { after: (f) => cleanups.push(f) };
}

/**
 * Memoizes `start` per file: the first test to ask starts the daemon in a fileScope(), later ones get the same one.
 * Each test first checks that program `bin` (Debian package `pkg`) is there, so every test skips (under CI: fails)
 * when it is missing. Call at the top level of the file.
 */
export function shared<T>(
  bin: string,
  pkg: string,
  start: (t: TestContext, scope: Scope) => Promise<T | null>,
): (t: TestContext) => Promise<T | null> {
  const scope = fileScope();
  let started: Promise<T | null> | undefined;
  return async (t) => {
    if (!needTool(t, bin, pkg)) return null;
    started ??= start(t, scope);
    return started;
  };
}
