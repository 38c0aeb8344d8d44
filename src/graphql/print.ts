// `npm run schema:print`: writes schema/schema.graphql from the code. CI fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { printedSchema } from './schema.ts';

const target = new URL('../../schema/schema.graphql', import.meta.url);
writeFileSync(target, printedSchema());
process.stdout.write(`wrote ${target.pathname}\n`);
