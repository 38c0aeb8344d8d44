/**
 * The GraphQL endpoint: graphql-yoga on /graphql (queries, mutations, SSE subscriptions, GraphiQL) and graphql-ws
 * on the same path (Yoga's documented recipe), mounted through endpoint.ts. Rules: every operation is
 * authenticated (HTTP: Authorization header, checked before the body is parsed; graphql-ws: `authorization` in
 * connection_init, else close 4401), with one exception: an HTTP POST without a valid token whose JSON body (at
 * most ANONYMOUS_BODY_LIMIT bytes, else 413) is one mutation selecting nothing but `login` (and __typename) runs
 * as the anonymous caller (context.ts); anything else without a valid token gets 401 UNAUTHENTICATED; the
 * GraphiQL page itself needs no token; scope failures are FORBIDDEN (access.ts); unexpected errors are masked and
 * logged; depth, cost and batch limits apply to every transport.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, Kind, NoSchemaIntrospectionCustomRule, parse, type ValidationRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type Plugin, maskError as yogaMaskError } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { verifyBearer } from '../auth/bearer.ts';
import type { Logger } from '../log/logger.ts';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError, ValidationError } from '../repos/errors.ts';
import type { Services } from '../server/services.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './builder.ts';
import { ANONYMOUS, type AuthInfo, authenticate, clientOf, type GraphQLContext } from './context.ts';
import { costLimitRule, depthLimitRule } from './limits.ts';
import { GRAPHQL_PATH } from './path.ts';
import { schema } from './schema.ts';

/** The largest body of a request without a valid token (it can only be a `login`). */
export const ANONYMOUS_BODY_LIMIT = 16 * 1024;

/** Whether a JSON request body is one mutation selecting nothing but `login` (and __typename). */
export function isLoginOnly(body: Buffer): boolean {
  let req: unknown;
  try {
    req = JSON.parse(body.toString('utf8'));
  } catch {
    return false;
  }
  if (!req || typeof req !== 'object' || Array.isArray(req)) return false;
  const { query, operationName } = req as { query?: unknown; operationName?: unknown };
  if (typeof query !== 'string') return false;
  let doc: ReturnType<typeof parse>;
  try {
    doc = parse(query, { maxTokens: 2000 });
  } catch {
    return false;
  }
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const op = ops[0];
  if (ops.length !== 1 || !op || op.operation !== 'mutation') return false;
  if (doc.definitions.some((d) => d.kind !== Kind.OPERATION_DEFINITION && d.kind !== Kind.FRAGMENT_DEFINITION))
    return false;
  if (operationName !== undefined && operationName !== null && operationName !== op.name?.value) return false;
  const names = op.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : null));
  return names.includes('login') && names.every((n) => n === 'login' || n === '__typename');
}

/** Reads a request body of at most `limit` bytes; null when it is longer (reading stops). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (v: Buffer | null) => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      resolve(v);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.pause();
        done(null);
      } else chunks.push(c);
    };
    const onEnd = () => done(Buffer.concat(chunks));
    const onError = (e: Error) => {
      req.off('data', onData).off('end', onEnd);
      reject(e);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

function sendError(res: ServerResponse, status: number, message: string, code: string, close = false): void {
  res.writeHead(status, {
    'content-type': 'application/graphql-response+json; charset=utf-8',
    ...(status === 401 ? { 'www-authenticate': 'Bearer realm="mailyard"' } : {}),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

function useRules(rules: ValidationRule[]): Plugin {
  return {
    onValidate({ addValidationRule }) {
      for (const r of rules) addValidationRule(r);
    },
  };
}

export function createGraphQL(services: Services, log: Logger) {
  const { api } = services.config;
  const rules = [depthLimitRule(api.max_depth), costLimitRule(api.max_cost, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)];
  if (!api.introspection) rules.push(NoSchemaIntrospectionCustomRule);

  const yoga = createYoga<
    { req: IncomingMessage; res: ServerResponse; connectionParams?: Record<string, unknown>; auth?: AuthInfo },
    GraphQLContext
  >({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    graphiql: api.graphiql
      ? {
          title: 'Mailyard GraphiQL',
          defaultQuery:
            '# Log in (no token needed): mutation { login(email: "you@example.com", password: "...") { ... on Login { token } } }\n# then set the header {"Authorization": "Bearer <token>"} below, and:\n{ me { actor scopes adminDomains } }\n',
          headers: JSON.stringify({ Authorization: 'Bearer <token>' }),
          subscriptionsProtocol: 'WS',
        }
      : false,
    batching: { limit: api.max_batch },
    maskedErrors: {
      // Known, safe errors keep their message and get a code; anything else is masked (and logged).
      maskError: (error, message) => {
        const original = (error as { originalError?: unknown }).originalError;
        if (original instanceof ValidationError)
          return new GraphQLError(original.message, {
            extensions: {
              code: original.code,
              fieldErrors: original.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
            },
          });
        if (
          original instanceof NotFoundError ||
          original instanceof ConflictError ||
          original instanceof InvalidInputError ||
          original instanceof ForbiddenError
        )
          return new GraphQLError(original.message, { extensions: { code: original.code } });
        return yogaMaskError(error, message); // GraphQL's own errors pass; anything unexpected is masked
      },
    },
    logging: {
      debug: (...a: unknown[]) => log.debug({ args: a }, 'graphql'),
      info: (...a: unknown[]) => log.info({ args: a }, 'graphql'),
      warn: (...a: unknown[]) => log.warn({ args: a }, 'graphql'),
      error: (...a: unknown[]) =>
        log.error({ err: a[0] instanceof Error ? a[0] : undefined, args: a }, 'graphql error'),
    },
    context: ({ request, req, connectionParams, auth }) => {
      const client = clientOf(req);
      // HTTP requests were authenticated by the route handler before Yoga read them.
      if (auth) return { ...services, auth, client };
      const fromWs = connectionParams?.authorization ?? connectionParams?.Authorization;
      const header = typeof fromWs === 'string' ? fromWs : request.headers.get('authorization');
      return { ...services, auth: authenticate(services, header), client };
    },
    plugins: [useRules(rules)],
  });

  /** graphql-ws on GRAPHQL_PATH: upgrades are handed in by the HTTP server (see endpoint.ts). */
  const wss = new WebSocketServer({ noServer: true });
  useServer(
    {
      onConnect: (ctx) => {
        const p = ctx.connectionParams ?? {};
        const value = p.authorization ?? p.Authorization;
        try {
          authenticate(services, typeof value === 'string' ? value : undefined);
          return true;
        } catch {
          ctx.extra.socket.close(4401, 'Unauthorized');
          return false;
        }
      },
      execute: (args) => (args.rootValue as { execute: typeof import('graphql').execute }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const {
          schema: s,
          execute,
          subscribe,
          contextFactory,
          parse,
          validate,
        } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams,
        });
        const document = parse(params.query);
        const errors = validate(s, document);
        if (errors.length) return errors;
        return {
          schema: s,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
  );

  return {
    yoga,
    route: {
      path: GRAPHQL_PATH,
      handler: async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        // The GraphiQL page (a browser's GET for HTML) and CORS preflights carry no token; so may a `login`
        // (below); everything else is refused before Yoga reads the body.
        const page = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
        if (page || req.method === 'OPTIONS') return void yoga(req, res, { req, res });
        const auth = verifyBearer(services, req.headers.authorization);
        if (!('error' in auth)) return void yoga(req, res, { req, res, auth });
        const json = (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json');
        if (req.method !== 'POST' || !json) return sendError(res, 401, auth.error, 'UNAUTHENTICATED');
        const tooLarge = () =>
          sendError(
            res,
            413,
            `a request without a token may only log in, in at most ${ANONYMOUS_BODY_LIMIT} bytes`,
            'PAYLOAD_TOO_LARGE',
            true,
          );
        if (Number(req.headers['content-length'] ?? 0) > ANONYMOUS_BODY_LIMIT) return tooLarge();
        const body = await readBody(req, ANONYMOUS_BODY_LIMIT);
        if (!body) return tooLarge();
        if (!isLoginOnly(body)) return sendError(res, 401, auth.error, 'UNAUTHENTICATED');
        // Yoga takes an already-read body from `req.body` (whatwg-node's node adapter) instead of the stream.
        (req as IncomingMessage & { body?: Buffer }).body = body;
        void yoga(req, res, { req, res, auth: ANONYMOUS });
      },
    },
    /** Completes a WebSocket upgrade request for GRAPHQL_PATH. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    /** Closes every graphql-ws socket (1001) and the WebSocket server. */
    closeWebSockets: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.close(1001, 'server shutting down');
        wss.close(() => resolve());
      }),
  };
}
