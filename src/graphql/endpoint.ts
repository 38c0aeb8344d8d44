/**
 * /graphql on the API port before its implementation has loaded. graphql-yoga, Pothos and the schema are a third
 * of start-up (~0.8 s on Node 20), so startMailyard loads them once the listeners are up, and /health, REST and
 * the mail listeners answer meanwhile.
 * Rules: an HTTP request or a WebSocket upgrade on GRAPHQL_PATH waits for the load, then is served as usual;
 * upgrades on any other path get 404; if the load fails, requests get 500 / a closed socket, /health says so, and
 * `mailyard run` stops with an error (the failure is the app's `graphqlReady` rejection).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Route } from '../http/server.ts';
import { GRAPHQL_PATH } from './path.ts';
import type { createGraphQL } from './server.ts';

type GraphQLServer = ReturnType<typeof createGraphQL>;

export function deferredGraphQL(loading: Promise<GraphQLServer>) {
  let loaded: GraphQLServer | undefined;
  let state: 'loading' | 'ready' | 'failed' = 'loading';
  loading.then(
    (g) => {
      loaded = g;
      state = 'ready';
    },
    () => {
      state = 'failed'; // reported by the caller (graphqlReady); requests see it below
    },
  );
  const route: Route = {
    path: GRAPHQL_PATH,
    handler: async (req: IncomingMessage, res: ServerResponse) => (loaded ?? (await loading)).route.handler(req, res),
  };

  /**
   * Takes the API server's WebSocket upgrades; returns a function that closes graphql-ws. Closing does not wait
   * for a load that may never come (start-up aborted before it began): upgrades still waiting are dropped.
   */
  function attachWebSocket(server: Server): () => Promise<void> {
    let closed = false;
    const waiting = new Set<Duplex>();
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if ((req.url ?? '/').split('?')[0] !== GRAPHQL_PATH) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (loaded) return loaded.handleUpgrade(req, socket, head);
      if (closed) return socket.destroy();
      waiting.add(socket);
      loading.then(
        (g) => {
          if (waiting.delete(socket)) g.handleUpgrade(req, socket, head); // else: dropped by close
        },
        () => {
          waiting.delete(socket);
          socket.destroy();
        },
      );
    });
    return async () => {
      closed = true;
      for (const socket of waiting) socket.destroy();
      waiting.clear();
      await loaded?.closeWebSockets();
    };
  }

  return { route, attachWebSocket, state: () => state };
}
