/**
 * The header lines a spamd result puts on a delivered message, in the format SpamAssassin itself writes, so that
 * users' existing filters (Sieve, mail clients) keep working:
 *   X-Spam-Flag: YES                                        (only when the message is spam)
 *   X-Spam-Score: 1003.3
 *   X-Spam-Status: Yes, score=1003.3 required=5.0 tests=GTUBE,MISSING_DATE,
 *   	MISSING_MID,NO_RECEIVED,NO_RELAYS autolearn=no ...     (SpamAssassin adds autolearn= and version=; we do not)
 * Rules: "Yes"/"No" is score >= required (SpamAssassin's rule), with `required` the domain's threshold when one is
 * given, else spamd's; scores have one decimal; `tests=none` when no rule hit; rule names are spamd.ts-checked
 * ([A-Za-z0-9_]) so nothing can break out of the header. Long X-Spam-Status values are folded after a comma at
 * 78 columns with CRLF + tab, as SpamAssassin does: a returned line may contain folds but never ends in CRLF
 * (verdict.ts's header-line convention).
 */

export interface SpamFacts {
  score: number;
  threshold: number;
  symbols: string[];
}

const WIDTH = 78;

const decimal = (n: number): string => (Object.is(Math.round(n * 10) / 10, -0) ? '0.0' : n.toFixed(1));

/** True when `score` reaches `required` (SpamAssassin's "Yes"). */
export const reaches = (score: number, required: number): boolean => score >= required;

/**
 * Folds `name:` and its words (each with the separator that goes before it) so that no line passes WIDTH columns
 * where a break is possible; a fold replaces the separator.
 */
function fold(name: string, words: [sep: string, text: string][]): string {
  const lines: string[] = [];
  let line = `${name}:`;
  let onLine = 0; // words on the current line: a line always takes at least one
  for (const [sep, w] of words) {
    if (onLine > 0 && line.length + sep.length + w.length > WIDTH) {
      lines.push(line);
      line = `\t${w}`;
      onLine = 1;
    } else {
      line += sep + w;
      onLine++;
    }
  }
  lines.push(line);
  return lines.join('\r\n');
}

/** X-Spam-Flag (spam only), X-Spam-Score and X-Spam-Status for `facts`, judged against `required`. */
export function spamHeaders(facts: SpamFacts, required: number = facts.threshold): string[] {
  const spam = reaches(facts.score, required);
  // Rule names follow each other after commas, no space: a fold may fall after any comma.
  const tests: [string, string][] = facts.symbols.length
    ? facts.symbols.map((r, i, a) => [
        i === 0 ? ' ' : '',
        `${i === 0 ? 'tests=' : ''}${r}${i < a.length - 1 ? ',' : ''}`,
      ])
    : [[' ', 'tests=none']];
  const status = fold('X-Spam-Status', [
    [' ', `${spam ? 'Yes' : 'No'},`],
    [' ', `score=${decimal(facts.score)}`],
    [' ', `required=${decimal(required)}`],
    ...tests,
  ]);
  return [...(spam ? ['X-Spam-Flag: YES'] : []), `X-Spam-Score: ${decimal(facts.score)}`, status];
}
