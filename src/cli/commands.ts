/**
 * The command table. Rules: each command declares its usage line, summary and flags; parsing is strict (an unknown
 * flag or command prints usage and exits 2); `--help` works on every command.
 */

import { exampleConfig } from '../config/example.ts';
import { loadConfig } from '../config/load.ts';
import { closeDatabase, dbOptions, migrate, openDatabase } from '../db/client.ts';
import { createEventBus } from '../events/bus.ts';
import { createRepos } from '../repos/index.ts';
import { startMailyard } from '../server/app.ts';
import { VERSION } from '../version.ts';
import { DKIM_USAGE, runDkim } from './dkim.ts';
import { type CliIo, EXIT } from './io.ts';
import { QUEUE_USAGE, runQueueCommand } from './queueCommand.ts';

export interface Command {
  usage: string;
  summary: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string; help: string }>;
  positionals?: number;
  run(io: CliIo, values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

const configOption = {
  config: {
    type: 'string' as const,
    short: 'c',
    help: 'YAML config file (gomailserver.yaml keys). Also MAILYARD_CONFIG. Without it: the embedded default.',
  },
};

function load(io: CliIo, file: string | undefined) {
  const { config, warnings } = loadConfig({ file: file ?? io.env.MAILYARD_CONFIG, env: io.env, cwd: io.cwd });
  for (const w of warnings) io.err(`warning: ${w}\n`);
  return config;
}

export const commands: Record<string, Command> = {
  run: {
    usage: 'mailyard run [--config FILE]',
    summary: 'Start the mail server (SMTP, submission, IMAP, admin API) in the foreground.',
    options: configOption,
    async run(io, values) {
      const config = load(io, values.config as string | undefined);
      const app = await startMailyard(config);
      if (app.adminToken.generated) {
        io.out(
          `\nGenerated an admin API token (shown once; stored in ${app.adminToken.path}, mode 0600):\n  ${app.adminToken.token}\n\n`,
        );
      }
      return new Promise<number>((resolve) => {
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals) => {
          signals++;
          if (signals > 1) {
            app.log.warn({ signal: sig }, 'second signal: exiting without waiting');
            resolve(EXIT.failure);
            process.exit(EXIT.failure);
          }
          app.log.info({ signal: sig }, 'signal received');
          app.stop().then(
            () => resolve(EXIT.ok),
            (err) => {
              app.log.error({ err }, 'shutdown failed');
              resolve(EXIT.failure);
            },
          );
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        // SIGHUP: read the certificate files again (as after a renewal); the server keeps running either way.
        process.on('SIGHUP', () => {
          app.log.info({ signal: 'SIGHUP' }, 'signal received');
          app.reloadTls();
        });
        app.graphqlReady.catch(() => {
          app.log.fatal('stopping: the GraphQL API could not load');
          app.stop().finally(() => resolve(EXIT.failure));
        });
      });
    },
  },
  migrate: {
    usage: 'mailyard migrate [--config FILE]',
    summary: 'Apply pending database migrations and create the _default domain template, then exit.',
    options: configOption,
    async run(io, values) {
      const config = load(io, values.config as string | undefined);
      const db = openDatabase(dbOptions(config));
      try {
        const applied = migrate(db);
        const created = createRepos(db, createEventBus()).domains.ensureTemplate();
        io.out(
          `${config.database.path}: ${applied} migration(s) applied; _default template ${created ? 'created' : 'already present'}\n`,
        );
      } finally {
        closeDatabase(db);
      }
      return EXIT.ok;
    },
  },
  config: {
    usage: 'mailyard config example | mailyard config check [--config FILE]',
    summary: 'Print a complete, commented example config, or validate a config file.',
    options: configOption,
    positionals: 1,
    async run(io, values, positionals) {
      const sub = positionals[0];
      if (sub === 'example') {
        io.out(exampleConfig());
        return EXIT.ok;
      }
      if (sub === 'check') {
        const config = load(io, values.config as string | undefined);
        io.out(`${config.source}: OK\n`);
        return EXIT.ok;
      }
      io.err(`mailyard config: expected "example" or "check"\nusage: ${commands.config!.usage}\n`);
      return EXIT.usage;
    },
  },
  dkim: {
    usage: DKIM_USAGE,
    summary:
      'List, stage, activate or retire DKIM keys of a domain (through the running server) and print DNS records.',
    options: {
      ...configOption,
      type: { type: 'string', help: 'stage: key type, rsa or ed25519 (default: the domain’s).' },
      size: { type: 'string', help: 'stage: RSA key size, 1024, 2048 or 4096 (default: the domain’s).' },
      api: {
        type: 'string',
        help: 'Admin API base URL (default: MAILYARD_API_URL, else api.port on server.bind_address from the config).',
      },
    },
    positionals: 3,
    run: runDkim,
  },
  queue: {
    usage: QUEUE_USAGE,
    summary: 'List the outbound queue, retry entries now, or delete them (straight on the database).',
    options: {
      ...configOption,
      status: { type: 'string', help: 'list: only these statuses (comma-separated: queued,deferred,...).' },
      domain: { type: 'string', help: 'list: only this recipient domain.' },
      limit: { type: 'string', help: 'list: at most this many entries (default 1000).' },
      json: { type: 'boolean', help: 'list: JSON (the REST API entry shape) instead of a table.' },
      all: { type: 'boolean', help: 'retry: every queued or deferred entry.' },
    },
    positionals: 2,
    async run(io, values, positionals) {
      return runQueueCommand(io, load(io, values.config as string | undefined), values, positionals);
    },
  },
  version: {
    usage: 'mailyard version',
    summary: 'Print the version.',
    options: {},
    async run(io) {
      io.out(`mailyard ${VERSION} (node ${process.version})\n`);
      return EXIT.ok;
    },
  },
  help: {
    usage: 'mailyard help [COMMAND]',
    summary: 'Show help for all commands or one.',
    options: {},
    positionals: 1,
    async run(io, _values, positionals) {
      const name = positionals[0];
      if (name) {
        const cmd = commands[name];
        if (!cmd) {
          io.err(`mailyard: unknown command "${name}"\n\n${overview()}`);
          return EXIT.usage;
        }
        io.out(commandHelp(cmd));
        return EXIT.ok;
      }
      io.out(overview());
      return EXIT.ok;
    },
  },
};

export function commandHelp(cmd: Command): string {
  const lines = [`usage: ${cmd.usage}`, '', cmd.summary];
  const opts = Object.entries(cmd.options);
  if (opts.length) {
    lines.push('', 'options:');
    for (const [name, o] of opts)
      lines.push(`  ${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' VALUE' : ''}  ${o.help}`);
  }
  lines.push('  -h, --help  Show this help.');
  return `${lines.join('\n')}\n`;
}

export function overview(): string {
  const rows = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(9)} ${c.summary}`);
  return `usage: mailyard <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nRun "mailyard help <command>" or "mailyard <command> --help" for details.\n`;
}
