/**
 * One IMAP connection (RFC 3501 3, 5.5). Rules: commands run one at a time in the order received (pipelined
 * commands wait in the reader, whose buffer is bounded); state is a discriminated union carrying its data
 * (state.ts, which is also all that command modules see of a session); a command runs only in the states it
 * declares, its arguments parsed before it runs; the three error kinds map to replies in one place
 * (`executeInner`): ImapBad -> BAD, ImapNo -> NO [CODE], anything else -> NO plus an error log with the command
 * name; every command ends by reporting pending mailbox changes that the protocol allows at that point; output
 * goes through a ResponseWriter (protocol/writer.ts) with backpressure (a slow reader slows only its own session).
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Logger } from '../log/logger.ts';
import type { AuthUser } from './auth.ts';
import { COMMANDS } from './commands/index.ts';
import type { ImapDeps } from './context.ts';
import type { MailboxChange } from './hub.ts';
import { BadTagged, parseCommand } from './protocol/parser.ts';
import { CommandReader } from './protocol/reader.ts';
import { ImapBad, ImapNo } from './protocol/types.ts';
import { type Chunk, ResponseWriter } from './protocol/writer.ts';
import type { SelectedMailbox } from './selected.ts';
import type { CommandSession, SessionState, StateKind } from './state.ts';

let nextId = 1;

export class Session implements CommandSession {
  readonly id = nextId++;
  state: SessionState = { kind: 'notAuthenticated' };
  reader: CommandReader;
  /** The output (one socket write per response, corked for the tick). */
  private readonly out: ResponseWriter;
  log: Logger;
  /** ENABLEd extensions (RFC 5161). */
  enabled = new Set<string>();
  /** CONDSTORE was enabled or used (RFC 7162 3.1: MODSEQ in FETCH responses from then on). */
  condstoreUsed = false;
  authFailures = 0;
  /** Set by a command that must end the connection after its tagged reply (BYE text). */
  byeAfterReply: string | null = null;
  idling: { wake(): void } | null = null;
  clientId: Record<string, string> = {};
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    socket: Socket,
    readonly deps: ImapDeps,
    readonly implicitTls: boolean,
  ) {
    this.out = new ResponseWriter(socket);
    this.log = deps.log.child({ imap: this.id, remote: socket.remoteAddress });
    this.reader = this.newReader(socket);
    socket.setNoDelay(true);
    socket.on('error', this.onSocketGone);
    socket.on('close', this.onSocketGone);
  }

  readonly onSocketGone = (): void => this.close();
  /** Called once when the session ends (the listener's bookkeeping). */
  readonly closeHooks: (() => void)[] = [];

  private newReader(socket: Socket): CommandReader {
    const { config } = this.deps;
    return new CommandReader(
      socket,
      {
        maxLine: 64 * 1024,
        // Before login only small literals (a password); APPEND may carry a message up to max_message_size.
        maxLiteral: (start) =>
          this.state.kind === 'notAuthenticated'
            ? 8 * 1024
            : /^\S+ (UID )?APPEND /i.test(start)
              ? config.smtp.max_message_size
              : 1024 * 1024,
        maxDiscard: 256 * 1024,
      },
      (text) => this.write([`+ ${text}\r\n`]),
    );
  }

  get socket(): Socket {
    return this.out.socket;
  }

  /** STARTTLS: the session carries on over the TLS socket. */
  set socket(socket: Socket) {
    this.out.socket = socket;
  }

  get tls(): boolean {
    return this.socket instanceof TLSSocket;
  }

  get condstore(): boolean {
    return this.condstoreUsed || this.enabled.has('CONDSTORE') || this.enabled.has('QRESYNC');
  }

  get qresync(): boolean {
    return this.enabled.has('QRESYNC');
  }

  get user(): AuthUser | null {
    return this.state.kind === 'authenticated' || this.state.kind === 'selected' ? this.state.user : null;
  }

  get selected(): SelectedMailbox | null {
    return this.state.kind === 'selected' ? this.state.box : null;
  }

  /** Loopback connections count as secure for plaintext authentication under imap.plaintext_auth = loopback. */
  plaintextAllowed(): boolean {
    if (this.tls) return true;
    const mode = this.deps.config.imap.plaintext_auth;
    if (mode === 'always') return true;
    if (mode === 'never') return false;
    const a = this.socket.remoteAddress ?? '';
    return a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1' || a.startsWith('127.');
  }

  /** Sends what this tick wrote now (writes are otherwise batched until the next tick). */
  flush(): void {
    this.out.flush();
  }

  write(chunks: Chunk[]): boolean {
    return this.out.write(chunks);
  }

  /** Writes and waits for the socket to drain when its buffer is full. */
  writeAsync(chunks: Chunk[]): Promise<void> {
    return this.out.writeAsync(chunks);
  }

  drained(): Promise<void> {
    return this.out.drained();
  }

  untagged(text: string): void {
    this.write([`* ${text}\r\n`]);
  }

  async run(): Promise<void> {
    const caps = this.capabilities().join(' ');
    this.write([`* OK [CAPABILITY ${caps}] ${this.deps.config.server.hostname} Mailyard IMAP ready\r\n`]);
    this.armIdleTimer();
    while (!this.closed && this.state.kind !== 'logout') {
      // Backpressure: a client that does not read its responses is not read from either, so pipelined commands
      // cannot pile up output in memory.
      this.flush();
      await this.drained();
      if (this.closed) break;
      const r = await this.reader.readCommand();
      this.armIdleTimer();
      if (r.kind === 'closed') break;
      if (r.kind === 'rejected') {
        this.write([`${r.tag} ${r.response}\r\n`]);
        continue;
      }
      await this.execute(r.buf);
      // Inactivity is counted from the end of the last command, not from its start.
      this.armIdleTimer();
      if (this.byeAfterReply) {
        this.untagged(`BYE ${this.byeAfterReply}`);
        this.socket.end();
        break;
      }
    }
    this.close();
  }

  /** RFC 3501 5.4: the autologout timer (imap.idle_timeout), restarted when a command starts and when it ends. */
  armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    if (this.closed) return;
    const ms = this.deps.config.imap.idle_timeout * 1000;
    const written = this.socket.bytesWritten;
    this.idleTimer = setTimeout(() => {
      // A command still running (other than IDLE) is not inactivity, as long as its output makes progress: a
      // peer that stopped reading for a whole period is dropped (its buffers would live for ever otherwise).
      if (this.busy && !this.idling && this.socket.bytesWritten > written) return this.armIdleTimer();
      if (this.busy && !this.idling && this.socket.writableLength === 0) return this.armIdleTimer();
      this.write(['* BYE Autologout; idle for too long\r\n']);
      this.socket.end();
      this.close();
    }, ms);
    this.idleTimer.unref();
  }

  /** A command is running (shutdown waits for it). */
  busy = false;

  async execute(buf: Buffer): Promise<void> {
    this.busy = true;
    try {
      await this.executeInner(buf);
    } finally {
      this.busy = false;
    }
  }

  private async executeInner(buf: Buffer): Promise<void> {
    let tag = '*';
    let name = '';
    try {
      const cmd = parseCommand(buf);
      tag = cmd.tag;
      name = cmd.name;
      const spec = COMMANDS.get(cmd.name);
      if (!spec) throw new ImapBad(`Unknown command ${cmd.name.slice(0, 40)}`);
      if (!spec.states.includes(this.state.kind))
        throw new ImapBad(`${cmd.name} is not allowed ${stateText(this.state.kind)}`);
      const sel = this.selected;
      if (sel?.stale) {
        // Renamed by another session: file paths follow the new name from now on.
        sel.stale = false;
        const fresh = this.deps.index.mailboxes.byId(sel.id);
        if (fresh) sel.box = fresh;
      }
      if (spec.syncBefore) {
        await this.syncSelected(true);
        // The selected mailbox was deleted (BYE): nothing more is written.
        if (this.closed) return;
      }
      // Syntax errors are BAD before the command does anything; it then runs in the state it declared.
      const command = spec.parse(cmd.args);
      const done = (await command(this, tag)) ?? {};
      if (this.closed) return;
      await this.syncSelected(spec.expungeAllowed !== false);
      if (spec.noTagged) return;
      this.write([`${tag} OK ${done.code ? `[${done.code}] ` : ''}${done.text ?? `${cmd.name} completed`}\r\n`]);
    } catch (e) {
      if (e instanceof BadTagged) {
        this.write([`${e.tag} BAD ${e.text}\r\n`]);
      } else if (e instanceof ImapBad) {
        this.write([`${tag} BAD ${e.text}\r\n`]);
      } else if (e instanceof ImapNo) {
        await this.syncSelected(false).catch(() => {});
        this.write([`${tag} NO ${e.code ? `[${e.code}] ` : ''}${e.text}\r\n`]);
      } else {
        this.log.error({ err: e, command: name }, 'imap command failed');
        this.write([`${tag} NO [SERVERBUG] ${name || 'Command'} failed: internal error (logged)\r\n`]);
      }
    }
  }

  async syncSelected(allowExpunge: boolean): Promise<void> {
    const box = this.selected;
    if (!box) return;
    if (box.deleted) {
      this.write(['* BYE The selected mailbox was deleted by another session\r\n']);
      this.socket.end();
      this.close();
      return;
    }
    if (box.hasPending()) await box.sync(this, allowExpunge);
  }

  onMailboxChange(c: MailboxChange): void {
    this.selected?.onChange(c);
    this.idling?.wake();
  }

  capabilities(): string[] {
    const caps = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'NAMESPACE', 'UNSELECT', 'CHILDREN'];
    if (this.state.kind === 'notAuthenticated') {
      if (!this.tls) caps.push('STARTTLS');
      if (this.plaintextAllowed()) caps.push('AUTH=PLAIN');
      else caps.push('LOGINDISABLED');
      return caps;
    }
    return caps.concat([
      'UIDPLUS',
      'MOVE',
      'SPECIAL-USE',
      'LIST-EXTENDED',
      'LIST-STATUS',
      'QUOTA',
      'QUOTA=RES-STORAGE',
      'CONDSTORE',
      'QRESYNC',
      'ESEARCH',
      `APPENDLIMIT=${String(this.deps.config.smtp.max_message_size)}`,
    ]);
  }

  /** Leaves the selected mailbox (CLOSE, UNSELECT, SELECT of another, LOGOUT). */
  deselect(): void {
    if (this.state.kind !== 'selected') return;
    this.state.unwatch();
    this.state = { kind: 'authenticated', user: this.state.user };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.closed = true;
    clearTimeout(this.idleTimer);
    const user = this.user;
    this.deselect();
    if (user) this.deps.hub.leave(user.id);
    this.state = { kind: 'logout' };
    this.idling?.wake();
    for (const hook of this.closeHooks.splice(0)) hook();
    this.flush();
    if (this.socket.destroyed) return;
    if (this.socket.writableEnded) {
      // end() was called (LOGOUT, BYE): let the queued output, TLS close_notify and FIN go out; destroy only a
      // peer that never closes its side.
      const socket = this.socket;
      setTimeout(() => socket.destroy(), 2000).unref();
    } else this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function stateText(kind: StateKind): string {
  switch (kind) {
    case 'notAuthenticated':
      return 'before authentication';
    case 'authenticated':
      return 'without a selected mailbox';
    case 'selected':
      return 'with a mailbox selected';
    default:
      return 'now';
  }
}
