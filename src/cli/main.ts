/**
 * CLI entry: dispatches argv to the command table. Rules: usage errors exit 2 with the usage on stderr; config
 * errors exit 78 naming the key and the file; other failures exit 1 with one clear line.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load.ts';
import { commandHelp, commands, overview } from './commands.ts';
import { type CliIo, EXIT, processIo } from './io.ts';

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    io[name ? 'out' : 'err'](overview());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version' || name === '-v') return commands.version!.run(io, {}, []);
  const cmd = commands[name];
  if (!cmd) {
    io.err(`mailyard: unknown command "${name}"\n\n${overview()}`);
    return EXIT.usage;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: (cmd.positionals ?? 0) > 0,
      strict: true,
    });
    if (parsed.positionals.length > (cmd.positionals ?? 0))
      throw new Error(`unexpected argument "${parsed.positionals.at(-1)}"`);
  } catch (e) {
    io.err(`mailyard ${name}: ${(e as Error).message.split('\n')[0]}\n\n${commandHelp(cmd)}`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.out(commandHelp(cmd));
    return EXIT.ok;
  }
  try {
    return await cmd.run(io, parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`mailyard: ${e.message}\n`);
      return EXIT.config;
    }
    io.err(`mailyard: ${(e as Error).message}\n`);
    return EXIT.failure;
  }
}
