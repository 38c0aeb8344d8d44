/**
 * Day arithmetic for the date keys (RFC 3501 6.4.4, 9 "date"; RFC 5322 3.3 for the Date: header). Rules: a
 * search date `d-MMM-yyyy` is a calendar day; INTERNALDATE is placed on a day in the server's zone (an offset
 * in minutes, UTC by default); the Date: header's day is the one written in it, in the sender's own zone, and
 * obsolete two-digit years follow RFC 5322 4.3 (< 50 -> 20xx).
 */
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a valid calendar date, or null. `month` is 0-based. */
export function dayNumber(year: number, month: number, day: number): number | null {
  if (!Number.isInteger(year) || year < 1 || year > 9999 || month < 0 || month > 11 || day < 1) return null;
  const ms = Date.UTC(year, month, day);
  const d = new Date(ms);
  if (d.getUTCMonth() !== month || d.getUTCDate() !== day) return null; // 31-Feb, 32-Jan
  return Math.floor(ms / DAY_MS);
}

/** Parses an IMAP search date (`1-Feb-1994`, `01-feb-1994`), or null. */
export function parseSearchDate(text: string): number | null {
  const m = /^([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})$/.exec(text);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  return month < 0 ? null : dayNumber(Number(m[3]), month, Number(m[1]));
}

/** The day a moment falls on in a zone `offsetMinutes` east of UTC. */
export function dayOf(ms: number, offsetMinutes = 0): number {
  return Math.floor((ms + offsetMinutes * 60_000) / DAY_MS);
}

/** The calendar day written in an RFC 5322 Date: value (its own zone), or null when it cannot be read. */
export function sentDay(value: string): number | null {
  const m = /(?:^|[\s,])([0-9]{1,2})\s+([A-Za-z]{3})[A-Za-z]*\.?\s+([0-9]{2,4})\b/.exec(value);
  if (m) {
    const month = MONTHS.indexOf(m[2]!.toLowerCase());
    let year = Number(m[3]);
    if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
    else if (m[3]!.length === 3) year += 1900;
    if (month >= 0) return dayNumber(year, month, Number(m[1]));
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : dayOf(ms);
}
