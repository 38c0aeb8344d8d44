#!/usr/bin/env node
// The `mailyard` executable: registers the TypeScript loader, then runs the CLI.
// fsyncs run on libuv's thread pool (4 threads by default): more threads let more sessions make mail durable
// at once. It must be set before the pool starts, hence before any other import.
process.env.UV_THREADPOOL_SIZE ??= '16';
// Node >= 22.1: V8 keeps compiled modules in a disk cache (os.tmpdir()/node-compile-cache), so later starts skip
// recompiling the ~150 modules (measured on Node 24: /health 3.5 s instead of 3.8 s on average). No-op on Node 20.
(await import('node:module')).enableCompileCache?.();
await import('./drizzleAsCommonJs.mjs');
const { register } = await import('tsx/esm/api');

register();
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
