/**
 * Shared plumbing for test/client: the registries every flow runs against (Stowage
 * in process and Debian's docker-registry), archive fixtures for each `docker save`
 * generation, a fake credential helper, a fault-injecting proxy, and the CLI.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { startDistribution, type DistributionHandle } from '../helpers/distribution.js';
import {
  MediaTypes,
  createTar,
  hexOf,
  makeConfig,
  makeLayer,
  randomLayer,
  sha256,
  type Layer,
  type Platform,
  type TarEntry,
} from '../helpers/oci-fixtures.js';
import { startInProcess } from '../helpers/server.js';
import { CLI } from '../helpers/server.js';
import { run, type RunResult } from '../helpers/tools.js';

export interface TargetRegistry {
  name: 'stowage' | 'distribution';
  host: string;
  url: string;
  stop(): Promise<void>;
}

export async function startTarget(name: TargetRegistry['name']): Promise<TargetRegistry> {
  if (name === 'stowage') {
    const s = await startInProcess({ fsync: false });
    return { name, host: s.host, url: s.url, stop: () => s.stop() };
  }
  const d: DistributionHandle = await startDistribution();
  return { name, host: d.host, url: d.url, stop: () => d.stop() };
}

// ---------------------------------------------------------------------------------
// Archives of every `docker save` generation

export interface ArchiveFixture {
  file: string;
  config: Buffer;
  configDigest: string;
  layers: Layer[];
  /** The manifest digest the archive carries (OCI generations). */
  manifestDigest?: string;
}

/** Docker ≥ 25, classic store: OCI layout with uncompressed layers + manifest.json + repositories. */
export async function writeDocker25Archive(
  file: string,
  opts: { repoTags: string[]; layerCount?: number },
): Promise<ArchiveFixture> {
  const layers = Array.from({ length: opts.layerCount ?? 2 }, (_, i) => {
    const l = randomLayer(`d25-${i}`);
    return makeLayer(Object.fromEntries([...l.files].map(([k, v]) => [k, v])), { uncompressed: true });
  });
  const config = makeConfig(layers.map((l) => l.diffId));
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: MediaTypes.ociLayerTar, digest: l.digest, size: l.size })),
    }),
  );
  const manifestDigest = sha256(manifest);
  const index = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: opts.repoTags.map((rt) => ({
      mediaType: MediaTypes.ociManifest,
      digest: manifestDigest,
      size: manifest.length,
      annotations: {
        'io.containerd.image.name': `docker.io/library/${rt}`,
        'org.opencontainers.image.ref.name': rt.slice(rt.lastIndexOf(':') + 1),
      },
    })),
  };
  const blob = (d: string) => `blobs/sha256/${hexOf(d)}`;
  const entries: TarEntry[] = [
    { path: 'blobs', type: 'dir' },
    { path: 'blobs/sha256', type: 'dir' },
    ...layers.map((l) => ({ path: blob(l.digest), data: l.blob })),
    { path: blob(configDigest), data: config },
    { path: blob(manifestDigest), data: manifest },
    { path: blob(sha256('{"legacy":"v1 json"}')), data: '{"legacy":"v1 json"}' },
    { path: 'index.json', data: JSON.stringify(index) },
    {
      path: 'manifest.json',
      data: JSON.stringify([
        {
          Config: blob(configDigest),
          RepoTags: opts.repoTags,
          Layers: layers.map((l) => blob(l.digest)),
          LayerSources: Object.fromEntries(
            layers.map((l) => [l.diffId, { mediaType: MediaTypes.ociLayerTar, size: l.size, digest: l.digest }]),
          ),
        },
      ]),
    },
    { path: 'oci-layout', data: '{"imageLayoutVersion": "1.0.0"}' },
    {
      path: 'repositories',
      data: JSON.stringify({
        [opts.repoTags[0]!.split(':')[0]!]: { [opts.repoTags[0]!.split(':')[1]!]: hexOf(layers.at(-1)!.diffId) },
      }),
    },
  ];
  await writeFile(file, createTar(entries));
  return { file, config, configDigest, layers, manifestDigest };
}

/**
 * Docker with the containerd store: registry blobs as pulled (gzip), a multi-platform
 * index of which only `present` platforms' content is in the archive, manifest.json.
 */
export async function writeContainerdArchive(
  file: string,
  opts: { name: string; platforms: Platform[]; present: number },
): Promise<{ indexDigest: string; present: string[]; file: string }> {
  const blobs = new Map<string, Buffer>();
  const put = (b: Buffer) => {
    const d = sha256(b);
    blobs.set(d, b);
    return d;
  };
  const manifests: { digest: string; size: number; platform: Platform; config: string; layers: string[] }[] = [];
  for (const platform of opts.platforms) {
    const layer = randomLayer(`ctr-${platform.architecture}`);
    const config = makeConfig([layer.diffId], { platform });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.ociConfig, digest: sha256(config), size: config.length },
        layers: [{ mediaType: MediaTypes.ociLayerGzip, digest: layer.digest, size: layer.size }],
      }),
    );
    manifests.push({
      digest: sha256(manifest),
      size: manifest.length,
      platform,
      config: sha256(config),
      layers: [layer.digest],
    });
    if (manifests.length <= opts.present) {
      put(layer.blob);
      put(config);
      put(manifest);
    }
  }
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: manifests.map((m) => ({
        mediaType: MediaTypes.ociManifest,
        digest: m.digest,
        size: m.size,
        platform: m.platform,
      })),
    }),
  );
  const indexDigest = put(index);
  const first = manifests[0]!;
  const entries: TarEntry[] = [
    { path: 'blobs', type: 'dir' },
    { path: 'blobs/sha256', type: 'dir' },
    ...[...blobs].map(([d, b]) => ({ path: `blobs/sha256/${hexOf(d)}`, data: b })),
    {
      path: 'index.json',
      data: JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        manifests: [
          {
            mediaType: MediaTypes.ociIndex,
            digest: indexDigest,
            size: index.length,
            annotations: {
              'io.containerd.image.name': `docker.io/library/${opts.name}`,
              'org.opencontainers.image.ref.name': opts.name.split(':')[1],
            },
          },
        ],
      }),
    },
    {
      path: 'manifest.json',
      data: JSON.stringify([
        {
          Config: `blobs/sha256/${hexOf(first.config)}`,
          RepoTags: [opts.name],
          Layers: first.layers.map((l) => `blobs/sha256/${hexOf(l)}`),
        },
      ]),
    },
    { path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
  ];
  await writeFile(file, createTar(entries));
  return { indexDigest, present: manifests.slice(0, opts.present).map((m) => m.digest), file };
}

/** gzip a whole file (users do `docker save x | gzip`). */
export async function gzipFile(src: string, dest: string): Promise<void> {
  await writeFile(dest, gzipSync(await readFile(src)));
}

// ---------------------------------------------------------------------------------
// A fake docker credential helper

/**
 * Writes `docker-credential-test` into `dir`: a file-backed helper speaking the
 * docker-credential-helpers protocol (get/store/erase/list), logging every call.
 */
export async function writeFakeHelper(
  dir: string,
  name = 'test',
): Promise<{ bin: string; store: string; calls: () => Promise<string[]> }> {
  await mkdir(dir, { recursive: true });
  const store = path.join(dir, `${name}-store.json`);
  const log = path.join(dir, `${name}-calls.log`);
  const script = `#!${process.execPath}
const fs = require('fs');
const store = ${JSON.stringify(store)};
const load = () => { try { return JSON.parse(fs.readFileSync(store, 'utf8')); } catch { return {}; } };
let input = '';
process.stdin.on('data', (d) => (input += d)).on('end', () => {
  const action = process.argv[2];
  const s = load();
  const url = input.trim();
  fs.appendFileSync(${JSON.stringify(log)}, action + ' ' + (action === 'store' ? JSON.parse(input).ServerURL : url) + '\\n');
  if (action === 'get') {
    if (!s[url]) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
    process.stdout.write(JSON.stringify({ ServerURL: url, Username: s[url].Username, Secret: s[url].Secret }));
  } else if (action === 'store') {
    const c = JSON.parse(input); s[c.ServerURL] = c; fs.writeFileSync(store, JSON.stringify(s));
  } else if (action === 'erase') {
    if (!s[url]) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
    delete s[url]; fs.writeFileSync(store, JSON.stringify(s));
  } else if (action === 'list') {
    process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.Username]))));
  } else { process.stderr.write('unknown action'); process.exit(2); }
});
`;
  const bin = path.join(dir, `docker-credential-${name}`);
  await writeFile(bin, script);
  await chmod(bin, 0o755);
  return {
    bin,
    store,
    calls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean),
  };
}

// ---------------------------------------------------------------------------------
// A proxy that breaks things on purpose

export interface FaultProxy {
  host: string;
  url: string;
  /** Requests seen: "METHOD path". */
  log: string[];
  /** Decides per request: pass, answer with a status, or cut the connection after n body bytes. */
  rule: (
    req: http.IncomingMessage,
    index: number,
  ) =>
    | { kind: 'pass' }
    | { kind: 'status'; status: number }
    | { kind: 'cut-request'; after: number }
    | { kind: 'cut-response'; after: number };
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const t = new URL(target);
  const agent = new http.Agent({ keepAlive: false });
  let count = 0;
  const proxy: FaultProxy = {
    host: '',
    url: '',
    log: [],
    rule: () => ({ kind: 'pass' }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const index = count++;
    proxy.log.push(`${req.method} ${req.url}`);
    const decision = proxy.rule(req, index);
    if (decision.kind === 'status') {
      req.resume();
      res.writeHead(decision.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected failure' }] }));
      return;
    }
    const upstream = http.request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers, agent },
      (ures) => {
        const headers = { ...ures.headers };
        if (decision.kind === 'cut-response') {
          res.writeHead(ures.statusCode ?? 502, headers);
          let sent = 0;
          ures.on('data', (chunk: Buffer) => {
            if (sent >= decision.after) return;
            const part = chunk.subarray(0, decision.after - sent);
            sent += part.length;
            res.write(part);
            if (sent >= decision.after) {
              ures.destroy();
              res.socket?.destroy();
            }
          });
          ures.on('end', () => res.end());
          return;
        }
        res.writeHead(ures.statusCode ?? 502, headers);
        ures.pipe(res);
      },
    );
    upstream.on('error', () => res.socket?.destroy());
    if (decision.kind === 'cut-request') {
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        if (seen >= decision.after) return;
        const part = chunk.subarray(0, decision.after - seen);
        seen += part.length;
        upstream.write(part);
        if (seen >= decision.after) {
          // The client's connection dies mid-body; the registry keeps what arrived.
          req.socket.destroy();
          setTimeout(() => upstream.destroy(), 50);
        }
      });
      req.on('end', () => upstream.end());
      return;
    }
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = `http://${proxy.host}`;
  return proxy;
}

// ---------------------------------------------------------------------------------
// The CLI

export function stowage(
  args: string[],
  opts: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], {
    allowFailure: true,
    timeoutMs: opts.timeoutMs ?? 60_000,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
}
