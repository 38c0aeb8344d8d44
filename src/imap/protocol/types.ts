/**
 * The shapes shared by the IMAP parser, the commands and the response writer. Rules: a parsed argument is a
 * Token (atoms keep their original spelling; comparisons upper-case them); a response value is an ImapValue,
 * and only the writer decides between a quoted string and a literal.
 */

/** A parsed command argument (RFC 3501 9, "astring", "list", literal, and FETCH's `BODY[section]<partial>`). */
export type Token =
  | { type: 'atom'; value: string; section?: Token[]; partial?: [number, number] }
  | { type: 'string'; value: Buffer; literal: boolean }
  | { type: 'list'; items: Token[] };

/** An atom in a response (NIL is `null`; numbers are numbers). */
export class Atom {
  constructor(readonly value: string) {}
}
export const atom = (value: string): Atom => new Atom(value);

/**
 * Values written one after another without separating spaces: the grammar's `1*body` in a multipart body
 * structure and `1*address` in an envelope address list (RFC 3501 9) have no SP between their lists.
 */
export class Adjacent {
  constructor(readonly items: ImapValue[]) {}
}

/** A response value: NIL, a number, an atom, a string (quoted or literal, the writer decides), a list. */
export type ImapValue = null | number | bigint | string | Buffer | Atom | Adjacent | ImapValue[];

/** A user-level failure: the writer answers `tag NO [code] text`. */
export class ImapNo extends Error {
  constructor(
    readonly text: string,
    readonly code?: string,
  ) {
    super(text);
    this.name = 'ImapNo';
  }
}

/** A syntax error: the writer answers `tag BAD text`. */
export class ImapBad extends Error {
  constructor(readonly text: string) {
    super(text);
    this.name = 'ImapBad';
  }
}
