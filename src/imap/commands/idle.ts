/**
 * IDLE (RFC 2177). Rules: after "+ idling", mailbox changes (from other sessions and SMTP delivery, via the hub)
 * are reported as soon as they arrive, expunges included; "DONE" ends it with the tagged OK; any other line is
 * BAD and ends it; the autologout timer still runs (clients re-IDLE well within 30 minutes).
 */
import { ImapBad } from '../protocol/types.ts';
import { authenticated, noArgs } from './types.ts';

export const idle = authenticated({
  name: 'IDLE',
  parse: noArgs('IDLE'),
  async run(s) {
    s.write(['+ idling\r\n']);
    const line = s.reader.readLine();
    let done = false;
    void line.then(() => {
      done = true;
      s.idling?.wake();
    });
    while (!done && !s.isClosed) {
      if (s.selected?.hasPending()) {
        await s.syncSelected(true);
        continue;
      }
      await new Promise<void>((resolve) => {
        s.idling = { wake: resolve };
      });
      s.idling = null;
    }
    s.idling = null;
    const r = await line;
    if (!r) {
      s.close();
      return undefined;
    }
    if (r.line.toString('latin1').toUpperCase() !== 'DONE') throw new ImapBad('Expected DONE');
    return { text: 'IDLE terminated' };
  },
});
