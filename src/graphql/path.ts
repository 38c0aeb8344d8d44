// Where the GraphQL API is served (HTTP and WebSocket upgrades). Rules: one constant, imported by both the
// deferred endpoint (endpoint.ts) and the server it loads (server.ts), so neither imports the other's values.
export const GRAPHQL_PATH = '/graphql';
