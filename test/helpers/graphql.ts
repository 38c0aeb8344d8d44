// GraphQL over real HTTP (fetch), SSE (fetch + text/event-stream) and graphql-ws (the real client over ws).
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export const TOKEN = 'test-admin-token';

export interface GqlResult<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown>; path?: string[] }[];
}

export async function gql<T = any>(
  api: string,
  query: string,
  variables?: Record<string, unknown>,
  token: string | null = TOKEN,
): Promise<GqlResult<T>> {
  const res = await fetch(`${api}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GqlResult<T>, 'status'>;
  return { status: res.status, ...body };
}

/** Like gql() but fails the test on any GraphQL error. */
export async function ok<T = any>(api: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const r = await gql<T>(api, query, variables);
  if (r.errors?.length || r.status !== 200)
    throw new Error(`GraphQL failed (${r.status}): ${JSON.stringify(r.errors)}`);
  return r.data!;
}

export function wsClient(
  api: string,
  token: string | null = TOKEN,
  extra: Partial<Parameters<typeof createClient>[0]> = {},
): Client {
  return createClient({
    url: `${api.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    ...extra,
  });
}

/** Subscribes over graphql-ws and collects results; `next()` waits for the next one. */
export function wsSubscribe(client: Client, query: string, variables?: Record<string, unknown>) {
  const results: any[] = [];
  const waiters: ((v: any) => void)[] = [];
  let error: unknown;
  const dispose = client.subscribe(
    { query, variables },
    {
      next: (v) => {
        const w = waiters.shift();
        if (w) w(v);
        else results.push(v);
      },
      error: (e) => {
        error = e;
        for (const w of waiters.splice(0)) w({ error: e });
      },
      complete: () => {},
    },
  );
  return {
    dispose,
    get error() {
      return error;
    },
    next: (timeoutMs = 5000) =>
      new Promise<any>((resolve, reject) => {
        const v = results.shift();
        if (v !== undefined) return resolve(v);
        const t = setTimeout(() => reject(new Error('no subscription result in time')), timeoutMs);
        waiters.push((x) => {
          clearTimeout(t);
          resolve(x);
        });
      }),
  };
}

/** Opens an SSE subscription (graphql-sse "distinct connections" mode, as Yoga serves it) and yields data events. */
export async function sseSubscribe(api: string, query: string, variables?: Record<string, unknown>, token = TOKEN) {
  const ac = new AbortController();
  const res = await fetch(`${api}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: ac.signal,
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  return {
    res,
    close: () => ac.abort(),
    async next(timeoutMs = 5000): Promise<any> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = /(?:^|\n)event: next\ndata: (.*)\n\n/.exec(buf);
        if (m) {
          buf = buf.slice(m.index + m[0].length);
          return JSON.parse(m[1]!);
        }
        const timer = new Promise<never>((_, rej) =>
          setTimeout(() => rej(new Error('no SSE event in time')), Math.max(1, deadline - Date.now())),
        );
        const { value, done } = await Promise.race([reader.read(), timer]);
        if (done) throw new Error('SSE stream ended');
        buf += decoder.decode(value, { stream: true });
      }
    },
  };
}
