// Column helpers shared by the table files.
import { sql } from 'drizzle-orm';

/** Default for *_at columns: the current time in milliseconds since the epoch. */
export const now = sql`(cast(unixepoch('subsec') * 1000 as integer))`;
