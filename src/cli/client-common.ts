/**
 * What every client command (`login`, `image`, `copy`, `inspect`, `tags`, …) shares,
 * defined once: the `--output`, `--insecure` and `--ca-file` options, building the
 * client from them, printing results as text or JSON, progress bars for transfers,
 * and turning errors into `stowage: message` + a hint with exit code 1 (2 for usage).
 * The commands themselves only parse arguments and call the library.
 */
import { Option, type Command } from 'commander';
import { ClientError, DockerCredentialStore, RegistryClient, type ClientOptions } from '../client/index.js';
import { CliError } from './common.js';
import { ProgressRenderer } from './progress.js';

export interface ClientFlags {
  output: 'text' | 'json';
  insecure?: boolean;
  caFile?: string;
}

/** `--output`, `--insecure`, `--ca-file` (registry commands); `--output` only with `registry: false`. */
export function addClientOptions(cmd: Command, opts: { registry?: boolean } = {}): Command {
  cmd.addOption(new Option('--output <format>', 'output format: text, or json for scripts').choices(['text', 'json']).default('text'));
  if (opts.registry !== false) {
    cmd.option('--insecure', 'allow plain HTTP, or HTTPS without certificate verification (localhost and 127.0.0.0/8 use plain HTTP anyway)');
    cmd.option('--ca-file <file>', 'trust the CA certificate(s) in this PEM file for the registry');
  }
  return cmd;
}

export interface CommandContext {
  flags: ClientFlags;
  /** The client, with progress bars when `transfers` was asked for and stderr is a terminal. */
  client(extra?: Partial<ClientOptions>): RegistryClient;
  credentials(): DockerCredentialStore;
  /** Prints a note on stderr (not in JSON mode's stdout). */
  note(message: string): void;
}

export interface CommandResult {
  /** Lines for people (stdout). */
  text: string | string[];
  /** The document for `--output json`. */
  json: unknown;
  /** Exit with this code after printing (e.g. 1 when `artifact diff` finds differences). Default 0. */
  exitCode?: number;
}

function warningPrinter(message: string): void {
  process.stderr.write(`stowage: warning: ${message}\n`);
}

function printError(e: unknown, flags: ClientFlags | undefined): number {
  let code = 'UNEXPECTED';
  let message: string;
  let hint: string | undefined;
  let exit = 1;
  if (e instanceof ClientError) {
    code = e.code;
    message = e.message;
    hint = e.hint;
    exit = e.usage ? 2 : 1;
  } else if (e instanceof CliError) {
    code = e.exitCode === 2 ? 'USAGE' : 'FAILED';
    message = e.message;
    exit = e.exitCode;
  } else {
    message = `unexpected error: ${(e as Error)?.stack ?? String(e)}`;
  }
  process.stderr.write(`stowage: ${message}\n${hint ? `  hint: ${hint}\n` : ''}`);
  if (flags?.output === 'json') process.stdout.write(`${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}) } })}\n`);
  return exit;
}

/**
 * Wraps a command action: builds the context from the command's options, runs the
 * body, prints its result, maps failures to messages and exit codes.
 */
export function clientAction(body: (ctx: CommandContext, args: string[], opts: Record<string, unknown>) => Promise<CommandResult>, opts: { transfers?: boolean } = {}) {
  return async (...actionArgs: unknown[]): Promise<void> => {
    const command = actionArgs.at(-1) as Command;
    const all = command.opts();
    const flags: ClientFlags = { output: all.output === 'json' ? 'json' : 'text', ...(all.insecure ? { insecure: true } : {}), ...(typeof all.caFile === 'string' ? { caFile: all.caFile } : {}) };
    const positional = actionArgs.slice(0, -2).map((a) => a as string);
    const progress = new ProgressRenderer({ enabled: opts.transfers === true && flags.output === 'text' });
    const clients: RegistryClient[] = [];
    let store: DockerCredentialStore | undefined;
    const ctx: CommandContext = {
      flags,
      credentials: () => (store ??= new DockerCredentialStore({ onWarning: warningPrinter })),
      client: (extra = {}) => {
        const c = new RegistryClient({
          credentials: ctx.credentials(),
          ...(flags.insecure ? { insecure: true } : {}),
          ...(flags.caFile ? { caFile: flags.caFile } : {}),
          onProgress: progress.listener,
          onWarning: warningPrinter,
          ...extra,
        });
        clients.push(c);
        return c;
      },
      note: (m) => process.stderr.write(`${m}\n`),
    };
    let exit = 0;
    try {
      const result = await body(ctx, positional, all);
      progress.stop();
      if (flags.output === 'json') process.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
      else {
        const lines = Array.isArray(result.text) ? result.text : [result.text];
        if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
      }
      exit = result.exitCode ?? 0;
    } catch (e) {
      progress.stop();
      exit = printError(e, flags);
    } finally {
      for (const c of clients) c.close();
    }
    if (exit !== 0) process.exit(exit);
  };
}
