/**
 * The real Docker Engine (Debian docker.io 20.10, scripts/services/docker.sh) and
 * its CLI for the interop tests. The daemon may be shared by several test files
 * at once: each client has its own DOCKER_CONFIG (credentials), and test images
 * carry random content, so no two files ever share an image ID.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serviceEnv } from './services.js';
import { requireTools, run, type RunOptions, type RunResult } from './tools.js';

const DEBIAN_CLI = '/usr/bin/docker';

/**
 * The CLI: the Debian one (/usr/bin/docker, same generation as the daemon) unless
 * STOWAGE_TEST_DOCKER_CLI names another (a newer CLI talks to the 20.10 daemon too).
 */
export function dockerCli(): string {
  const cli = process.env.STOWAGE_TEST_DOCKER_CLI || DEBIAN_CLI;
  try {
    accessSync(cli, fsConstants.X_OK);
  } catch {
    throw new Error(
      `docker CLI ${cli} not found: install the Debian package "docker.io" (apt-get install -y docker.io) or set STOWAGE_TEST_DOCKER_CLI`,
    );
  }
  return cli;
}

export interface DockerEngine {
  /** unix://…/docker.sock */
  readonly host: string;
}

/** The daemon scripts/test.sh started (STOWAGE_TEST_DOCKER_HOST), or one of this process (stopped when it exits). */
export async function startDockerEngine(): Promise<DockerEngine> {
  requireTools('dockerd');
  const env = await serviceEnv(
    'docker',
    ['STOWAGE_TEST_DOCKER_HOST', 'STOWAGE_TEST_DOCKER_DIR'],
    'STOWAGE_TEST_DOCKER_DIR',
  );
  return { host: env.STOWAGE_TEST_DOCKER_HOST! };
}

export interface DockerClient {
  /** DOCKER_CONFIG of this client: its config.json holds what `docker login` saved */
  readonly configDir: string;
  /** DOCKER_HOST and DOCKER_CONFIG, for other tools sharing the same credentials */
  readonly env: Readonly<Record<string, string>>;
  docker(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Runs a docker command that must fail; returns its result (stderr says why). */
  dockerFails(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** `docker login -u USER --password-stdin HOST` */
  login(registry: string, user: string, secret: string, opts?: RunOptions): Promise<RunResult>;
  /** The image ID (sha256 of its config) of a local image, or undefined when docker has none. */
  imageId(ref: string): Promise<string | undefined>;
}

/** A docker CLI with a fresh, empty DOCKER_CONFIG under dir. */
export async function dockerClient(engine: DockerEngine, dir: string): Promise<DockerClient> {
  const configDir = join(dir, 'docker-config');
  await mkdir(configDir, { recursive: true });
  await writeFile(join(configDir, 'config.json'), '{"auths":{}}\n');
  const env = { DOCKER_HOST: engine.host, DOCKER_CONFIG: configDir };
  const cli = dockerCli();
  const docker = (args: readonly string[], opts: RunOptions = {}) =>
    run(cli, args, { ...opts, env: { ...env, ...opts.env } });
  const dockerFails = async (args: readonly string[], opts: RunOptions = {}) => {
    const r = await docker(args, { ...opts, allowFailure: true });
    if (r.code === 0) throw new Error(`expected failure, but succeeded: ${r.command}\n${r.stdout.slice(-2000)}`);
    return r;
  };
  return {
    configDir,
    env,
    docker,
    dockerFails,
    login: (registry, user, secret, opts = {}) =>
      docker(['login', '-u', user, '--password-stdin', registry], { ...opts, input: `${secret}\n` }),
    async imageId(ref) {
      const r = await docker(['image', 'inspect', '--format', '{{.Id}}', ref], { allowFailure: true });
      if (r.code !== 0) {
        if (/no such image/i.test(r.stderr)) return undefined;
        throw new Error(`docker image inspect ${ref} failed: ${r.stderr}`);
      }
      return r.stdout.trim();
    },
  };
}
