/**
 * `stowage user add|passwd|remove|list`: the htpasswd file (bcrypt) that
 * `auth.htpasswd` in the config names. A running server picks changes up
 * within a second.
 */
import type { Command } from 'commander';
import { hashPassword, DEFAULT_COST } from '../auth/password.js';
import { isValidUsername, MAX_USERNAME } from '../auth/htpasswd.js';
import { readUsers, writeUsers } from '../auth/users.js';
import { action, addStoreOptions, CliError, htpasswdPath, loadConfig, type StoreOptions } from './common.js';
import { readSecret } from './secret-input.js';

interface UserOptions extends StoreOptions {
  htpasswd?: string;
  passwordStdin?: boolean;
  cost?: string;
}

function fileOf(opts: UserOptions): string {
  return htpasswdPath(loadConfig(opts), opts.htpasswd);
}

function costOf(opts: UserOptions): number {
  const cost = opts.cost === undefined ? DEFAULT_COST : Number(opts.cost);
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) throw new CliError('--cost must be an integer from 4 to 31', 2);
  return cost;
}

async function newPassword(opts: UserOptions): Promise<string> {
  const password = await readSecret({
    fromStdin: opts.passwordStdin === true,
    prompt: 'Password: ',
    confirm: 'Repeat password: ',
  });
  if (password.length < 8) throw new CliError('the password must have at least 8 characters');
  if (Buffer.byteLength(password) > 72)
    throw new CliError('the password must be at most 72 bytes (bcrypt ignores the rest)');
  return password;
}

export function registerUser(program: Command): void {
  const user = program
    .command('user')
    .description('Manage the users who can log in (the htpasswd file of the config).');
  const withFile = (cmd: Command) =>
    addStoreOptions(cmd).option(
      '--htpasswd <file>',
      'htpasswd file (default: auth.htpasswd of --config, else <data>/htpasswd)',
    );

  withFile(
    user.command('add <name>').description('Add a user; the password is read from a prompt or --password-stdin.'),
  )
    .option('--password-stdin', 'read the password from standard input')
    .option('--cost <n>', `bcrypt cost (default ${DEFAULT_COST})`)
    .action(
      action(async (name: string, opts: UserOptions) => {
        if (!isValidUsername(name)) {
          throw new CliError(
            `invalid user name "${name}": lowercase letters, digits and . _ - between them, at most ${MAX_USERNAME} characters (it names the user's repositories)`,
            2,
          );
        }
        const file = fileOf(opts);
        const users = await readUsers(file);
        if (users.has(name))
          throw new CliError(`user "${name}" already exists in ${file} (use \`stowage user passwd\`)`);
        users.set(name, await hashPassword(await newPassword(opts), costOf(opts)));
        await writeUsers(file, users);
        process.stderr.write(`added user ${name} to ${file}\n`);
      }),
    );

  withFile(user.command('passwd <name>').description("Change a user's password (their refresh tokens stop working)."))
    .option('--password-stdin', 'read the password from standard input')
    .option('--cost <n>', `bcrypt cost (default ${DEFAULT_COST})`)
    .action(
      action(async (name: string, opts: UserOptions) => {
        const file = fileOf(opts);
        const users = await readUsers(file);
        if (!users.has(name)) throw new CliError(`no user "${name}" in ${file}`);
        users.set(name, await hashPassword(await newPassword(opts), costOf(opts)));
        await writeUsers(file, users);
        process.stderr.write(`changed the password of ${name}\n`);
      }),
    );

  withFile(user.command('remove <name>').description('Remove a user (their access tokens stop working too).')).action(
    action(async (name: string, opts: UserOptions) => {
      const file = fileOf(opts);
      const users = await readUsers(file);
      if (!users.delete(name)) throw new CliError(`no user "${name}" in ${file}`);
      await writeUsers(file, users);
      process.stderr.write(`removed user ${name}\n`);
    }),
  );

  withFile(user.command('list').description('List the users, one per line.')).action(
    action(async (opts: UserOptions) => {
      for (const name of [...(await readUsers(fileOf(opts))).keys()].sort()) process.stdout.write(`${name}\n`);
    }),
  );
}
