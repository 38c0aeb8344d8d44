/**
 * The live TLS certificates every TLS listener serves (SMTP STARTTLS and SMTPS, IMAP STARTTLS and IMAPS). Rules:
 * the default certificate (tls.cert_file/key_file, else the self-signed one) is what a client gets without SNI or
 * for a name no other certificate covers; each of tls.certificates serves the names its certificate covers (SNI,
 * exact names before wildcards, the most recently listed first); the files are read again when they change on disk
 * (their directories are watched: renewal tools replace files by rename or swap symlinks) and on reload() (SIGHUP);
 * a pair that cannot be read, whose key does not match, or that has expired is refused with an error naming the
 * file, and the previous certificates stay in use (a reload is all or nothing); listeners learn of a new set
 * through onChange() and apply it to new handshakes only: open connections keep theirs.
 */
import { X509Certificate } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { type CertFiles, loadPair, MIN_TLS_VERSION, type TlsMaterial } from './pair.ts';

export type { CertFiles };

/** One loaded pair: its material, its exact DNS names, and its context. */
interface Loaded {
  material: TlsMaterial;
  x509: X509Certificate;
  names: string[];
  context: SecureContext;
}

const prepare = (material: TlsMaterial): Loaded => {
  const x509 = new X509Certificate(material.cert);
  return {
    material,
    x509,
    names: (x509.subjectAltName ?? '')
      .split(/,\s*/)
      .filter((n) => n.startsWith('DNS:'))
      .map((n) => n.slice(4).toLowerCase()),
    context: createSecureContext({ key: material.key, cert: material.cert, minVersion: MIN_TLS_VERSION }),
  };
};

export function createTlsStore(opts: {
  /** The default pair as loaded at start (files or self-signed). */
  initial: TlsMaterial;
  /** Its files, when it came from files (reloaded with the others). */
  defaultFiles?: CertFiles;
  /** The SNI pairs (tls.certificates), and their material as loaded at start (same order). */
  extra: readonly CertFiles[];
  initialExtra: readonly TlsMaterial[];
  /** Reports a reload's outcome (a log line). */
  report(outcome: { ok: true; reason: string; subjects: string[] } | { ok: false; reason: string; error: Error }): void;
  /** Watch the files (off in tests that reload by hand). */
  watch?: boolean;
}) {
  let fallback = prepare(opts.initial);
  // Listed last wins: the most recently configured certificate for a name.
  let named: Loaded[] = opts.initialExtra.map(prepare).reverse();
  const listeners = new Set<() => void>();
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;

  const pick = (servername: string | undefined): Loaded => {
    if (!servername) return fallback;
    const name = servername.toLowerCase().replace(/\.$/, '');
    // checkHost matches exact names and wildcards by RFC 6125; an exact SAN is preferred to a wildcard.
    const exact = named.find((l) => l.names.includes(name));
    return exact ?? named.find((l) => l.x509.checkHost(name) !== undefined) ?? fallback;
  };

  const store = {
    /** The default certificate. */
    get current(): TlsMaterial {
      return fallback.material;
    },

    /** The context for a client's server name (the default one without SNI or for an uncovered name). */
    context(servername?: string): SecureContext {
      return pick(servername).context;
    },

    /** For tls.createServer, TLSSocket and smtp-server's SNICallback option. */
    SNICallback: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
      cb(null, pick(servername).context);
    },

    /** The default pair as server options (for a server's own default context). */
    options(): { key: string; cert: string; minVersion: typeof MIN_TLS_VERSION } {
      return { key: fallback.material.key, cert: fallback.material.cert, minVersion: MIN_TLS_VERSION };
    },

    /** Called after every successful reload; returns an unsubscribe function. */
    onChange(fn: () => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },

    /** Reads every configured pair again; all or nothing. Returns whether the new set is in use. */
    reload(reason: string): boolean {
      let next: { fallback: Loaded; named: Loaded[] };
      try {
        next = {
          fallback: opts.defaultFiles ? prepare(loadPair(opts.defaultFiles)) : fallback,
          named: opts.extra.map((f) => prepare(loadPair(f))).reverse(),
        };
      } catch (error) {
        opts.report({ ok: false, reason, error: error as Error });
        return false;
      }
      fallback = next.fallback;
      named = next.named;
      for (const fn of listeners) fn();
      opts.report({ ok: true, reason, subjects: [fallback, ...named].map((l) => l.material.subject) });
      return true;
    },

    /** Stops watching the files. */
    close(): void {
      clearTimeout(timer);
      for (const w of watchers.splice(0)) w.close();
    },
  };

  if (opts.watch !== false) {
    const files = [...(opts.defaultFiles ? [opts.defaultFiles] : []), ...opts.extra].flatMap((f) => [
      f.cert_file,
      f.key_file,
    ]);
    const byDir = new Map<string, Set<string>>();
    for (const f of files) {
      const set = byDir.get(dirname(f)) ?? new Set<string>();
      set.add(basename(f));
      byDir.set(dirname(f), set);
    }
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          // A renewal writes a key and a certificate (and may swap a symlink): one reload once it settles.
          if (name && !names.has(String(name)) && !String(name).startsWith('..')) return;
          clearTimeout(timer);
          timer = setTimeout(() => store.reload('files changed'), 200);
          timer.unref();
        });
        w.on('error', () => {});
        watchers.push(w);
      } catch {
        // a directory that cannot be watched: SIGHUP still reloads
      }
    }
  }
  return store;
}

export type TlsStore = ReturnType<typeof createTlsStore>;
