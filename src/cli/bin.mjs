#!/usr/bin/env node
// The `mailyard` executable: registers the TypeScript loader, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
