/**
 * The private key's password, found as cosign finds it: `COSIGN_PASSWORD` when set
 * (even empty), else a prompt on the terminal (twice when creating a key), else
 * everything on standard input, byte for byte (cosign's `io.ReadAll(os.Stdin)`).
 */
import { readSecret } from './secret-input.js';

export async function cosignPassword(opts: { confirm: boolean }): Promise<Buffer> {
  const env = process.env.COSIGN_PASSWORD;
  if (env !== undefined) return Buffer.from(env, 'utf8');
  if (process.stdin.isTTY) {
    const pw = await readSecret({
      fromStdin: false,
      prompt: 'Enter password for private key: ',
      ...(opts.confirm ? { confirm: 'Enter password for private key again: ' } : {}),
    });
    return Buffer.from(pw, 'utf8');
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
