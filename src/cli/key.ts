/**
 * `stowage key generate` and `stowage key public`: cosign key pairs, as
 * `cosign generate-key-pair` and `cosign public-key` make and read them.
 */
import type { Command } from 'commander';
import { assertKeyPairAbsent, readSigningKey, writeKeyPair } from '../client/index.js';
import { generateKeyPair, parsePublicKey, publicKeyHint, publicKeyPem } from '../sign/index.js';
import { addClientOptions, clientAction } from './client-common.js';
import { cosignPassword } from './key-password.js';

export function registerKey(program: Command): void {
  const key = program
    .command('key')
    .description('Create and inspect cosign key pairs (cosign.key, password-protected, and cosign.pub).');

  addClientOptions(
    key
      .command('generate')
      .description(
        'Create a cosign key pair: <prefix>.key (encrypted, mode 0600) and <prefix>.pub. The password comes from COSIGN_PASSWORD, else a prompt.',
      )
      .option('--output-key-prefix <name>', 'base name of the files', 'cosign')
      .option('--force', 'overwrite existing key files'),
    { registry: false },
  ).action(
    clientAction(async (_ctx, _args, opts) => {
      const prefix = opts.outputKeyPrefix as string;
      if (opts.force !== true) await assertKeyPairAbsent(prefix);
      const password = await cosignPassword({ confirm: true });
      const pair = await generateKeyPair(password);
      const files = await writeKeyPair(prefix, pair, { force: opts.force === true });
      return {
        text: [`Private key written to ${files.privateKey}`, `Public key written to ${files.publicKey}`],
        json: { ...files, publicKeyHint: parsePublicKey(pair.publicPem, files.publicKey).hint },
      };
    }),
  );

  addClientOptions(
    key
      .command('public')
      .description('Print the public key (cosign.pub) of a private key file.')
      .requiredOption('--key <file>', 'the private key (cosign.key)'),
    { registry: false },
  ).action(
    clientAction(async (_ctx, _args, opts) => {
      const path = opts.key as string;
      const k = await readSigningKey(path, () => cosignPassword({ confirm: false }));
      const pem = publicKeyPem(k.publicKey);
      return { text: pem.trimEnd(), json: { key: path, publicKey: pem, publicKeyHint: publicKeyHint(k.publicKey) } };
    }),
  );
}
