/**
 * Renders the complete, commented example config from the schema declaration (never a second hand-written
 * copy). examples/mailyard.yaml is this output; a test keeps them equal.
 */
import { stringify } from 'yaml';
import { configSchema } from './schema.ts';
import { describeSchema, envName, type Node } from './walk.ts';

function scalar(v: unknown): string {
  return stringify(v, { lineWidth: 0 }).trimEnd();
}

function wrap(text: string, indent: string): string[] {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + w.length + 1 > 100 - indent.length) {
      lines.push(`${indent}# ${line}`);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(`${indent}# ${line}`);
  return lines;
}

function render(node: Node, depth: number, out: string[]): void {
  const indent = '  '.repeat(depth);
  const key = node.path[node.path.length - 1];
  if (node.section) {
    out.push('');
    out.push(...wrap(node.description, indent));
    out.push(`${indent}${key}:`);
    for (const c of node.children) render(c, depth + 1, out);
    return;
  }
  const envNote = `Env: ${envName(node.path)}.`;
  const defNote = node.default === undefined ? '' : ` Default: ${JSON.stringify(node.default)}.`;
  out.push(...wrap(`${node.description}${defNote} ${envNote}`, indent));
  if (node.default !== undefined) {
    const v = node.default;
    if (Array.isArray(v) && v.length === 0) {
      out.push(`${indent}${key}: []`);
      if (node.example !== undefined) {
        const lines = scalar(node.example).split('\n');
        // A list of scalars on one line (["127.0.0.1:53"]); a list of objects as commented YAML lines.
        if (lines.length === 1 || lines.every((l) => /^- [^:]*$/.test(l)))
          out.push(`${indent}# ${key}: ${lines.join(' ')}`);
        else out.push(`${indent}# ${key}:`, ...lines.map((l) => `${indent}#   ${l}`));
      }
    } else if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) {
      // A non-empty list of scalars in flow style (JSON is valid YAML), the example as a comment.
      out.push(`${indent}${key}: ${JSON.stringify(v)}`);
      if (Array.isArray(node.example)) out.push(`${indent}# ${key}: ${JSON.stringify(node.example)}`);
    } else out.push(`${indent}${key}: ${scalar(v)}`);
  } else {
    out.push(`${indent}# ${key}: ${node.example === undefined ? '' : scalar(node.example)}`);
  }
}

export function exampleConfig(): string {
  const out = [
    '# Mailyard bootstrap configuration.',
    '# Generated from the config schema by `mailyard config example`; every key is shown with its default.',
    '# Keys of gomailserver.yaml are accepted verbatim. Per-domain settings live in the database (GraphQL/REST API).',
  ];
  for (const c of describeSchema(configSchema).children) render(c, 0, out);
  return `${out.join('\n')}\n`;
}
