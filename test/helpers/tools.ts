// Finding Debian-packaged peers (.ci/run installs them). A test that needs a missing one is skipped, visibly.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function which(bin: string): string | null {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'])
    if (existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}
