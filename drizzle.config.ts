import { defineConfig } from 'drizzle-kit';

// Drizzle owns the schema: the tables live in schema/db/*.ts, the generated migrations in drizzle/.
export default defineConfig({
  dialect: 'sqlite',
  schema: './schema/db/tables.ts',
  out: './drizzle',
});
