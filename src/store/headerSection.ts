/**
 * The header section of a spooled message, read back from its file for checks that need every field (all From
 * fields, not only the first one the index keeps). Rules: at most HEADER_LIMIT bytes from the start of the file,
 * cut at the empty line that ends the header section (CRLF or bare LF); the bytes are returned as stored (the
 * caller decodes); a file that cannot be read rejects (the caller answers 451).
 */
import { open } from 'node:fs/promises';
import { HEADER_LIMIT } from './headers.ts';

export async function readHeaderSection(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEADER_LIMIT);
    let len = 0;
    while (len < buf.length) {
      const { bytesRead } = await fh.read(buf, len, buf.length - len, len);
      if (bytesRead === 0) break;
      len += bytesRead;
    }
    const head = buf.subarray(0, len);
    const crlf = head.indexOf('\r\n\r\n');
    const lf = head.indexOf('\n\n');
    const ends = [crlf >= 0 ? crlf + 2 : -1, lf >= 0 ? lf + 1 : -1].filter((i) => i >= 0);
    return ends.length ? head.subarray(0, Math.min(...ends)) : head;
  } finally {
    await fh.close();
  }
}
