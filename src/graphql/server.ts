/**
 * The GraphQL endpoint: graphql-yoga on /graphql (queries, mutations, SSE subscriptions, GraphiQL) and graphql-ws
 * on the same path (Yoga's documented recipe), mounted through endpoint.ts. Rules: every operation is
 * authenticated (HTTP: Authorization header, checked before the body is read or parsed, so an unauthenticated
 * request gets 401 whatever it sent; the GraphiQL page itself needs no token; graphql-ws: `authorization` in
 * connection_init, else close 4401); unexpected errors are masked and logged; depth, cost and batch limits apply
 * to every transport.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type Plugin, maskError as yogaMaskError } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { verifyBearer } from '../auth/bearer.ts';
import type { Logger } from '../log/logger.ts';
import { ConflictError, InvalidInputError, NotFoundError, ValidationError } from '../repos/errors.ts';
import type { Services } from '../server/services.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './builder.ts';
import { type AuthInfo, authenticate, type GraphQLContext } from './context.ts';
import { costLimitRule, depthLimitRule } from './limits.ts';
import { GRAPHQL_PATH } from './path.ts';
import { schema } from './schema.ts';

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
            '# Set the header {"Authorization": "Bearer <token>"} below, then:\n{ domains { totalCount nodes { name } } }\n',
          headers: JSON.stringify({ Authorization: 'Bearer <admin token>' }),
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
          original instanceof InvalidInputError
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
    context: ({ request, connectionParams, auth }) => {
      // HTTP requests were authenticated by the route handler before Yoga read them.
      if (auth) return { ...services, auth };
      const fromWs = connectionParams?.authorization ?? connectionParams?.Authorization;
      const header = typeof fromWs === 'string' ? fromWs : request.headers.get('authorization');
      return { ...services, auth: authenticate(services, header) };
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
      handler: (req: IncomingMessage, res: ServerResponse): void => {
        // The GraphiQL page (a browser's GET for HTML) and CORS preflights carry no token; everything else is
        // refused before Yoga reads the body.
        const page = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
        if (page || req.method === 'OPTIONS') return void yoga(req, res, { req, res });
        const auth = verifyBearer(services, req.headers.authorization);
        if ('error' in auth) {
          res.writeHead(401, {
            'content-type': 'application/graphql-response+json; charset=utf-8',
            'www-authenticate': 'Bearer realm="mailyard"',
          });
          res.end(JSON.stringify({ errors: [{ message: auth.error, extensions: { code: 'UNAUTHENTICATED' } }] }));
          return;
        }
        void yoga(req, res, { req, res, auth });
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
