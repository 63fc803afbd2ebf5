/**
 * `stowage login HOST` and `stowage logout HOST`: docker's credentials, docker's file.
 * Login checks the credentials against the registry's /v2/ with whatever auth it
 * negotiates (Basic, or a token from its token service) before saving them in
 * docker's config.json — through the configured credential helper when there is one.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { clientError, parseRegistryHost } from '../client/index.js';
import { addClientOptions, clientAction } from './client-common.js';
import { readSecret } from './secret-input.js';

async function promptUser(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question('Username: ')).trim();
  } finally {
    rl.close();
  }
}

export function registerLogin(program: Command): void {
  addClientOptions(
    program
      .command('login')
      .description(
        'Log in to a registry; credentials go to docker’s config.json (or its credential helper), shared with docker, helm, crane…',
      )
      .argument('<host>', 'registry host[:port], e.g. localhost:5000 or ghcr.io')
      .option('-u, --username <user>', 'user name')
      .option(
        '-p, --password <secret>',
        'password or access token (visible in the process list and shell history: prefer --password-stdin)',
      )
      .option('--password-stdin', 'read the password or access token from standard input'),
  ).action(
    clientAction(async (ctx, [hostArg], opts) => {
      const registry = parseRegistryHost(hostArg!);
      if (opts.password !== undefined && opts.passwordStdin)
        throw clientError('OPTIONS_CONFLICT', { options: ['--password', '--password-stdin'] });
      let username = typeof opts.username === 'string' ? opts.username : undefined;
      if (username === undefined) {
        if (!process.stdin.isTTY || opts.passwordStdin) throw clientError('USERNAME_REQUIRED', undefined);
        username = await promptUser();
      }
      if (username === '' || username.includes(':')) throw clientError('USERNAME_INVALID', undefined);
      let secret: string;
      if (typeof opts.password === 'string') {
        ctx.note('stowage: warning: a password given with -p ends up in shell history; prefer --password-stdin');
        secret = opts.password;
      } else {
        secret = await readSecret({ fromStdin: opts.passwordStdin === true, prompt: 'Password: ' });
      }
      const client = ctx.client();
      const result = await client.login(registry, username, secret);
      if (!result.verified)
        ctx.note(
          `stowage: warning: ${registry} does not ask for credentials at /v2/, so they could not be checked; saved anyway`,
        );
      const stored = await ctx.credentials().store(registry, {
        username,
        ...(result.identityToken ? { identityToken: result.identityToken } : { password: secret }),
      });
      const where = stored.helper ? `credential helper docker-credential-${stored.helper}` : stored.file;
      return {
        text: [`Login Succeeded (credentials for ${username}@${registry} saved in ${where})`],
        json: {
          registry,
          username,
          verified: result.verified,
          auth: result.scheme,
          identityToken: result.identityToken !== undefined,
          stored: { file: stored.file, ...(stored.helper ? { helper: stored.helper } : {}) },
        },
      };
    }),
  );

  addClientOptions(
    program
      .command('logout')
      .description('Remove the saved credentials of a registry (from docker’s config.json and its credential helper).')
      .argument('<host>', 'registry host[:port]'),
    { registry: false },
  ).action(
    clientAction(async (ctx, [hostArg]) => {
      const registry = parseRegistryHost(hostArg!);
      const r = await ctx.credentials().erase(registry);
      return {
        text: r.removed ? `Removed login credentials for ${registry}` : `Not logged in to ${registry}`,
        json: { registry, removed: r.removed, file: r.file, ...(r.helper ? { helper: r.helper } : {}) },
      };
    }),
  );
}
