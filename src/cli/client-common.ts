/**
 * What every client command (`login`, `image`, `copy`, `inspect`, `tags`, …) shares,
 * defined once: the `--output` format, `--insecure` and `--ca-file` options and the
 * spellings flux and helm users type for the same things (`--creds`,
 * `--insecure-registry`; `--plain-http`, `--insecure-skip-tls-verify`,
 * `--username/--password`), building the client from them, printing results as
 * text, JSON or YAML, progress bars for transfers, deprecation warnings for old
 * spellings, and turning errors into `stowage: message` + a hint with exit code 1
 * (2 for usage). The commands themselves only parse arguments and call the library.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import {
  ClientError,
  DockerCredentialStore,
  RegistryClient,
  type ClientOptions,
  type Credential,
  type CredentialProvider,
} from '../client/index.js';
import { CliError } from './common.js';
import { ProgressRenderer } from './progress.js';

export type OutputFormat = 'text' | 'json' | 'yaml';

export interface ClientFlags {
  output: OutputFormat;
  insecure?: boolean;
  caFile?: string;
  /** `--cert-file`/`--key-file`: a client certificate for registries that require one. */
  certFile?: string;
  keyFile?: string;
  /** From `--creds` (flux) or `--username/--password` (helm): used instead of stored logins. */
  credential?: Credential;
  /** `--output` was the old format flag (see ClientOptionsSpec.legacyFormat). */
  legacyOutput?: boolean;
}

export interface ClientOptionsSpec {
  /** Registry options (TLS, credentials); false for local-only commands. Default true. */
  registry?: boolean;
  /**
   * The formats `--output` takes (the first is the default), or false when the
   * command gives `--output` another meaning (flux's `pull -o DIR`, `build -o FILE`).
   */
  output?: readonly OutputFormat[] | false;
  /** `-o` as the short form of `--output` (flux). */
  shortOutput?: boolean;
  /** Also take this tool's spellings of the registry options. */
  ecosystem?: 'flux' | 'helm';
  /**
   * With `output: false`: the command once wrote its file/directory with `-o/--out`
   * and took `--output text|json` as the format; `-o X --output json` (or `--out X
   * --output json`) keeps meaning that, with a deprecation warning.
   */
  legacyFormat?: boolean;
}

/** Commands whose `--output` is a format (not flux's directory/file). */
const formatOutput = new WeakSet<Command>();
/** Commands where `--output text|json` next to `-o`/`--out` is the old format flag. */
const legacyFormat = new WeakSet<Command>();

/** `--output`, `--insecure`, `--ca-file` and, per ecosystem, flux's or helm's spellings of them. */
export function addClientOptions(cmd: Command, spec: ClientOptionsSpec = {}): Command {
  const formats = spec.output ?? ['text', 'json'];
  if (formats !== false) {
    const flags = spec.shortOutput ? '-o, --output <format>' : '--output <format>';
    cmd.addOption(
      new Option(flags, `output format: ${formats.join(', ')} (for scripts)`).choices(formats).default(formats[0]),
    );
    formatOutput.add(cmd);
  } else if (spec.legacyFormat) {
    legacyFormat.add(cmd);
  }
  if (spec.registry !== false) {
    cmd.option(
      '--insecure',
      'allow plain HTTP, or HTTPS without certificate verification (localhost and 127.0.0.0/8 use plain HTTP anyway)',
    );
    cmd.option('--ca-file <file>', 'trust the CA certificate(s) in this PEM file for the registry');
    cmd.option('--cert-file <file>', 'identify to the registry with this client certificate (PEM; with --key-file)');
    cmd.option('--key-file <file>', 'the private key of --cert-file (PEM)');
    if (spec.ecosystem === 'flux') {
      cmd.option('--insecure-registry', "allow plain HTTP to the registry (flux's spelling of --insecure)");
      cmd.option(
        '--creds <user[:password]>',
        'credentials for the registry, as flux takes them: USER:PASSWORD, or a bearer token alone (instead of stored logins)',
        parseCreds,
      );
      cmd.addOption(
        new Option('--provider <name>', "flux's OCI provider; only generic (stored logins or --creds) is supported")
          .choices(['generic', 'aws', 'azure', 'gcp'])
          .default('generic'),
      );
    }
    if (spec.ecosystem === 'helm') {
      cmd.option('--plain-http', "use plain HTTP (helm's spelling; same as --insecure)");
      cmd.option('--insecure-skip-tls-verify', "skip TLS certificate checks (helm's spelling; same as --insecure)");
      cmd.option('--username <name>', 'registry username (instead of stored logins)');
      cmd.option('--password <secret>', 'registry password (with --username)');
    }
  }
  return cmd;
}

/** flux's GetAuthFromCredentials: "user:password", or a token alone. */
export function parseCreds(value: string): Credential {
  if (value === '') throw new InvalidArgumentError('credentials cannot be empty');
  const i = value.indexOf(':');
  return i < 0 ? { registryToken: value } : { username: value.slice(0, i), password: value.slice(i + 1) };
}

/** A credential given on the command line, for every registry the command talks to. */
function fixedCredentials(c: Credential): CredentialProvider {
  return { get: async () => c };
}

/** Prints that an old spelling still works but will go: scripts keep running. */
export function deprecated(old: string, instead: string): void {
  process.stderr.write(`stowage: warning: ${old} is deprecated; use ${instead}\n`);
}

/** True when `--output` is the old format flag next to `-o X`/`--out X` (and says so on stderr). */
export function legacyOutputFormat(command: Command, all: Record<string, unknown>): boolean {
  const legacy =
    legacyFormat.has(command) &&
    (all.o !== undefined || all.out !== undefined) &&
    (all.output === 'text' || all.output === 'json');
  return legacy;
}

function flagsOf(command: Command, all: Record<string, unknown>): ClientFlags {
  let output: OutputFormat = 'text';
  if (formatOutput.has(command) && (all.output === 'json' || all.output === 'yaml')) output = all.output;
  else if (legacyOutputFormat(command, all)) {
    deprecated(
      `--output ${all.output as string} (the output format)`,
      'the default text output; the path now goes in -o/--output as flux and docker take it',
    );
    output = all.output as OutputFormat;
  }
  const legacyOutput = legacyOutputFormat(command, all);
  if (all.provider !== undefined && all.provider !== 'generic') {
    throw new CliError(
      `--provider ${all.provider as string}: cloud provider logins are not supported; log in with \`stowage login\` or pass --creds USER:PASSWORD`,
      2,
    );
  }
  const insecure =
    all.insecure === true ||
    all.insecureRegistry === true ||
    all.plainHttp === true ||
    all.insecureSkipTlsVerify === true;
  let credential = all.creds as Credential | undefined;
  if (typeof all.username === 'string' || typeof all.password === 'string') {
    if (typeof all.username !== 'string') throw new CliError('--password needs --username', 2);
    credential = { username: all.username, password: typeof all.password === 'string' ? all.password : '' };
  }
  return {
    output,
    ...(insecure ? { insecure: true } : {}),
    ...(typeof all.caFile === 'string' ? { caFile: all.caFile } : {}),
    ...(typeof all.certFile === 'string' ? { certFile: all.certFile } : {}),
    ...(typeof all.keyFile === 'string' ? { keyFile: all.keyFile } : {}),
    ...(credential ? { credential } : {}),
    ...(legacyOutput && !formatOutput.has(command) ? { legacyOutput: true } : {}),
  };
}

/**
 * The path option of commands where flux and docker write it `-o/--output PATH`
 * (`artifact pull`, `artifact build`, `image pull`); `--out PATH`, Stowage's old
 * spelling, still works with a deprecation warning. Use with `output: false, legacyFormat: true`.
 */
export function addOutputPathOption(cmd: Command, description: string, fallback?: string): Command {
  cmd.option('-o <path>', `${description} (same as --output)`);
  cmd.option('--output <path>', fallback === undefined ? description : `${description} (default ${fallback})`);
  cmd.addOption(new Option('--out <path>', 'deprecated spelling of -o/--output').hideHelp());
  return cmd;
}

/** The path given with addOutputPathOption's options. */
export function outputPath(flags: ClientFlags, opts: Record<string, unknown>, fallback?: string): string | undefined {
  if (typeof opts.out === 'string') deprecated('--out', '-o/--output');
  const pick = (...v: unknown[]) => v.find((x): x is string => typeof x === 'string');
  return (flags.legacyOutput ? pick(opts.o, opts.out) : pick(opts.o, opts.output, opts.out)) ?? fallback;
}

export interface CommandContext {
  flags: ClientFlags;
  /** The client, with progress bars when `transfers` was asked for and stderr is a terminal. */
  client(extra?: Partial<ClientOptions>): RegistryClient;
  credentials(): DockerCredentialStore;
  /** Prints a note on stderr (not in JSON mode's stdout). */
  note(message: string): void;
  /** With progress bars: the line above them, naming the item in progress. */
  status(text: string): void;
}

export interface CommandResult {
  /** Lines for people (stdout). */
  text: string | string[];
  /** The document for `--output json` (and yaml). */
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
  if (flags && flags.output !== 'text')
    process.stdout.write(`${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}) } })}\n`);
  return exit;
}

/**
 * Wraps a command action: builds the context from the command's options, runs the
 * body, prints its result, maps failures to messages and exit codes.
 */
export function clientAction(
  body: (ctx: CommandContext, args: string[], opts: Record<string, unknown>) => Promise<CommandResult>,
  opts: { transfers?: boolean } = {},
) {
  return async (...actionArgs: unknown[]): Promise<void> => {
    const command = actionArgs.at(-1) as Command;
    const all = command.opts();
    let flags: ClientFlags;
    try {
      flags = flagsOf(command, all);
    } catch (e) {
      process.exit(printError(e, undefined));
    }
    const positional = actionArgs.slice(0, -2).map((a) => a as string);
    const progress = new ProgressRenderer({ enabled: opts.transfers === true && flags.output === 'text' });
    const clients: RegistryClient[] = [];
    let store: DockerCredentialStore | undefined;
    const ctx: CommandContext = {
      flags,
      credentials: () => (store ??= new DockerCredentialStore({ onWarning: warningPrinter })),
      client: (extra = {}) => {
        const c = new RegistryClient({
          credentials: flags.credential ? fixedCredentials(flags.credential) : ctx.credentials(),
          ...(flags.insecure ? { insecure: true } : {}),
          ...(flags.caFile ? { caFile: flags.caFile } : {}),
          ...(flags.certFile ? { certFile: flags.certFile } : {}),
          ...(flags.keyFile ? { keyFile: flags.keyFile } : {}),
          onProgress: progress.listener,
          onWarning: warningPrinter,
          ...extra,
        });
        clients.push(c);
        return c;
      },
      note: (m) => process.stderr.write(`${m}\n`),
      status: (text) => progress.status(text),
    };
    let exit = 0;
    try {
      const result = await body(ctx, positional, all);
      progress.stop();
      if (flags.output === 'json') process.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
      else if (flags.output === 'yaml') process.stdout.write(toYaml(result.json));
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
