/**
 * The services of scripts/services/NAME.sh (real daemons: dockerd, containerd, …)
 * as tests use them: the instance scripts/test.sh started for the whole run when
 * its STOWAGE_TEST_* variables are set, otherwise one of the test file's own,
 * started and stopped through the same script.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onExit, run } from './tools.js';

/** scripts/services, from dist/test/helpers/services.js. */
const SERVICES = resolve(fileURLToPath(import.meta.url), '../../../../scripts/services');

export interface ServiceInstance {
  /** the STOWAGE_TEST_* variables the script printed (or found in the environment) */
  readonly env: Readonly<Record<string, string>>;
  /** true when the instance belongs to scripts/test.sh (stop does nothing) */
  readonly shared: boolean;
  stop(): Promise<void>;
}

/** Parses the `export NAME=value` lines a service script prints. */
export function parseExports(stdout: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/**
 * The running instance of service `name`. `keys` are the variables it prints;
 * `dirKey` names the one holding its state dir (what `stop` takes).
 */
export async function useService(name: string, keys: readonly string[], dirKey: string): Promise<ServiceInstance> {
  const given = keys.map((k) => process.env[k]);
  if (given.every((v) => v !== undefined && v !== '')) {
    return { env: Object.fromEntries(keys.map((k, i) => [k, given[i]!])), shared: true, stop: async () => {} };
  }
  const script = resolve(SERVICES, `${name}.sh`);
  const started = await run('bash', [script, 'start'], { timeoutMs: 60_000 });
  const env = parseExports(started.stdout);
  const missing = keys.filter((k) => env[k] === undefined);
  if (missing.length > 0) throw new Error(`${script} start printed no ${missing.join(', ')}:\n${started.stdout}\n${started.stderr}`);
  const dir = env[dirKey]!;
  // If the test process dies first, the daemon (not our child) must still go.
  const cancel = onExit(() => spawnSync('bash', [script, 'stop', dir], { stdio: 'ignore', timeout: 30_000 }));
  return {
    env,
    shared: false,
    async stop() {
      cancel();
      await run('bash', [script, 'stop', dir], { timeoutMs: 60_000 });
    },
  };
}
