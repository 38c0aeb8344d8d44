// Free TCP ports on 127.0.0.1 for test servers. Picked below the kernel's ephemeral range (ip_local_port_range):
// a port taken from that range (bind :0) can be handed, between our check and the server's bind, to the source
// side of some other test's outgoing connection, and the server then fails with EADDRINUSE. Below the range
// only another listener can take it; the candidate is test-bound first, and ports handed out by this process are
// not handed out again.
import { readFileSync } from 'node:fs';
import net from 'node:net';

const ephemeralLow = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
})();
const LOW = 10_000;
const given = new Set<number>();

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(null));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const { port: got } = s.address() as net.AddressInfo;
      s.close(() => resolve(got));
    });
  });
}

export async function freePort(): Promise<number> {
  if (ephemeralLow - LOW > 1000) {
    for (let i = 0; i < 50; i++) {
      const candidate = LOW + Math.floor(Math.random() * (ephemeralLow - LOW));
      if (given.has(candidate)) continue;
      const got = await tryListen(candidate);
      if (got !== null) {
        given.add(got);
        return got;
      }
    }
  }
  const got = await tryListen(0);
  if (got === null) throw new Error('no free port on 127.0.0.1');
  return got;
}

export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** Resolves true if something accepts a TCP connection on the port. */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
