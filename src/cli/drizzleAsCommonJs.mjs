// Loads drizzle-orm through its CommonJS build, for every importer in this thread (our code and Pothos's plugin
// alike, so there is one copy). Why: drizzle-orm's package.json is 290 KB (700 export entries), and Node >= 22
// re-reads the package scope for every ES module file it loads (nodejs/node#58126): its ~300 ESM files took 1.0 s
// to import on Node 24 versus 0.1 s as CommonJS, where relative requires never consult the package scope.
// Node 20 has no registerHooks and does not have the slowdown (0.07 s): there this is a no-op.
import module from 'node:module';

const DRIZZLE = /^drizzle-orm(\/|$)/;

module.registerHooks?.({
  resolve(specifier, context, nextResolve) {
    if (!DRIZZLE.test(specifier)) return nextResolve(specifier, context);
    return nextResolve(specifier, { ...context, conditions: ['node', 'require', 'default'] });
  },
});
