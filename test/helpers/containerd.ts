/**
 * The real containerd (Debian containerd 1.6, scripts/services/containerd.sh) and
 * `ctr` for the interop tests. The daemon may be shared by several test files at
 * once: each client works in a containerd namespace of its own.
 */
import { randomUUID } from 'node:crypto';
import { serviceEnv } from './services.js';
import { requireTool, requireTools, run, type RunOptions, type RunResult } from './tools.js';

export interface Containerd {
  /** …/containerd.sock, for `ctr --address` */
  readonly address: string;
}

/** The daemon scripts/test.sh started (STOWAGE_TEST_CONTAINERD_ADDRESS), or one of this process (stopped when it exits). */
export async function startContainerd(): Promise<Containerd> {
  requireTools('containerd', 'ctr');
  const env = await serviceEnv(
    'containerd',
    ['STOWAGE_TEST_CONTAINERD_ADDRESS', 'STOWAGE_TEST_CONTAINERD_DIR'],
    'STOWAGE_TEST_CONTAINERD_DIR',
  );
  return { address: env.STOWAGE_TEST_CONTAINERD_ADDRESS! };
}

export interface CtrClient {
  readonly namespace: string;
  /** `ctr --address … --namespace … <args>` */
  ctr(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Runs a ctr command that must fail; returns its result (stderr says why). */
  ctrFails(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** The digest of the local image named ref, or undefined when there is none. */
  imageDigest(ref: string): Promise<string | undefined>;
  /** Removes every image of the namespace (content is garbage-collected with them). */
  clear(): Promise<void>;
}

/**
 * ctr in a fresh namespace. The native snapshotter unpacks by copying files: no
 * overlayfs needed, whatever the machine's root filesystem is.
 */
export function ctrClient(cd: Containerd, name: string): CtrClient {
  const namespace = `${name}-${randomUUID().slice(0, 8)}`;
  const bin = requireTool('ctr');
  const ctr = (args: readonly string[], opts: RunOptions = {}) =>
    run(bin, ['--address', cd.address, '--namespace', namespace, ...args], {
      ...opts,
      env: { CONTAINERD_SNAPSHOTTER: 'native', ...opts.env },
    });
  const list = async () =>
    (await ctr(['images', 'ls'])).stdout
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((cols) => cols.length >= 3);
  return {
    namespace,
    ctr,
    async ctrFails(args, opts = {}) {
      const r = await ctr(args, { ...opts, allowFailure: true });
      if (r.code !== 0) return r;
      throw new Error(`expected failure, but succeeded: ${r.command}\n${r.stdout.slice(-2000)}`);
    },
    async imageDigest(ref) {
      return (await list()).find((cols) => cols[0] === ref)?.[2];
    },
    async clear() {
      const refs = (await list()).map((cols) => cols[0]!);
      if (refs.length > 0) await ctr(['images', 'rm', '--sync', ...refs]);
    },
  };
}
