// The authentication thread's entry (see authThread.ts): a worker does not inherit the TypeScript loader that
// bin.mjs registers, so it registers its own before importing the TypeScript module that does the work.
import { register } from 'tsx/esm/api';

register();
await import('./authThreadMain.ts');
