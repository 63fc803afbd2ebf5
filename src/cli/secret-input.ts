/** Reading a password: from standard input (scripts, CI) or an echo-free prompt on a terminal. */
import { CliError } from './common.js';

export async function readSecret(o: { fromStdin: boolean; prompt: string; confirm?: string }): Promise<string> {
  if (o.fromStdin) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (text === '') throw new CliError('no password on standard input');
    return text;
  }
  if (!process.stdin.isTTY) throw new CliError('no terminal to ask for the password: pass it with --password-stdin', 2);
  const first = await promptHidden(o.prompt);
  if (o.confirm !== undefined && (await promptHidden(o.confirm)) !== first)
    throw new CliError('the passwords do not match');
  return first;
}

function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new CliError('cancelled', 130));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
