import { readFile } from 'node:fs/promises';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Logger } from 'pino';
import type { ServeConfig } from './config/config.js';
import { isLoopback, parseAddr } from './config/config.js';
import { Registry } from './registry/registry.js';
import { openStores } from './storage/open-stores.js';
import { describeStorage } from './storage/storage-config.js';
import { createRegistryServer } from './http/server.js';
import { sendFileAvailable, sendFileProblem } from './http/send-file.js';
import { openAuth } from './auth/setup.js';
import { SignaturePolicy } from './registry/signature-policy.js';
import { loadPublicKeys, loadSignatureRules } from './config/signature-keys.js';
import { scheduleGarbageCollection } from './lifecycle/schedule.js';
import { Metrics } from './metrics/metrics.js';
import { Dispatcher, loadEndpoints } from './events/dispatcher.js';
import { timedMetadataStore } from './metrics/timed-metadata-store.js';
import { createMetricsServer, type MetricsEndpoint } from './http/metrics-endpoint.js';
import { AuditLog } from './audit/audit-log.js';
import { createApi } from './api/api.js';
import { scheduleMirrors } from './mirror/scheduled-mirrors.js';
import { StaticUi } from './ui/static-ui.js';
import { loadUpstreamCredentials } from './config/proxy-credentials.js';
import { PullThroughCache } from './proxy/pull-through-cache.js';

export interface RunningRegistry {
  address: string;
  /** host:port of the separate metrics listener, when `metrics.address` is set. */
  metricsAddress?: string;
  /** Stops accepting, lets in-flight requests finish (bounded), closes storage. */
  shutdown(): Promise<void>;
}

/** Opens the configured storage (by default disk blobs + SQLite under `data`). */
export async function openEmbeddedRegistry(config: ServeConfig, metrics?: Metrics): Promise<Registry> {
  // Key files are read before anything opens: an unusable key fails the start.
  const pullCheck = config.requireSignatures
    ? new SignaturePolicy(await loadSignatureRules(config.requireSignatures))
    : undefined;
  const { blobs, meta } = await openStores(config.storage, config.data, config.fsync, {
    maxOpenUploadFiles: config.maxOpenUploadFiles,
  });
  return new Registry(blobs, metrics ? timedMetadataStore(meta, metrics) : meta, {
    maxManifestBytes: config.maxManifestBytes,
    uploadTtlMs: config.uploadTtlSeconds * 1000,
    maxUploads: config.maxUploads,
    maxUploadsPerRepository: config.maxUploadsPerRepository,
    maxUploadsPerUser: config.maxUploadsPerUser,
    ...(pullCheck ? { pullCheck } : {}),
    ...(config.immutableTags ? { immutableTags: config.immutableTags } : {}),
    ...(config.quotas ? { quotas: config.quotas } : {}),
    events: config.events.endpoints.length > 0,
    pullEvents: config.events.pulls,
    tagMoves: config.audit !== undefined,
  });
}

export async function startRegistry(config: ServeConfig, log: Logger): Promise<RunningRegistry> {
  // The bearer token file is read before anything opens, like TLS keys.
  const metricsEndpoint = await openMetrics(config);
  const endpoints = await loadEndpoints(config.events);
  // What the UI verifies signatures against, read before anything opens (like the pull check's keys).
  const signatureKeys = config.ui.enabled
    ? {
        rules: config.requireSignatures ? await loadSignatureRules(config.requireSignatures) : [],
        keys: await loadPublicKeys(config.ui.signatureKeys, 'ui.signature_keys'),
      }
    : undefined;
  const registry = await openEmbeddedRegistry(config, metricsEndpoint?.metrics);
  let cache: PullThroughCache | undefined;
  try {
    cache = config.proxy ? await openPullThroughCache(registry, config, log, metricsEndpoint?.metrics) : undefined;
  } catch (e) {
    await registry.close();
    throw e;
  }
  if (config.requireSignatures)
    log.info(
      { requireSignatures: config.requireSignatures },
      'pulls of these repositories need a verified cosign signature',
    );
  // Background work runs on one replica at a time (an advisory lock with PostgreSQL).
  const expire = () =>
    registry.meta.runExclusive('upload-expiry', async () => {
      const n = await registry.expireUploads();
      if (n > 0) log.info({ expired: n }, 'removed expired upload sessions');
    });
  await expire();
  const sweep = setInterval(
    () => {
      expire().catch((err: unknown) => log.error({ err }, 'upload expiry failed'));
    },
    Math.min(config.uploadTtlSeconds * 250, 60 * 60 * 1000),
  );
  sweep.unref();
  const gc = scheduleGarbageCollection(registry, config, log, metricsEndpoint?.metrics);
  metricsEndpoint?.metrics.watchStorage(() => registry.meta.storageStats());

  // TLS files and auth are read before listening: a bad key or policy fails the start, not a request.
  let tls: { cert: Buffer; key: Buffer } | undefined;
  let auth: Awaited<ReturnType<typeof openAuth>>;
  try {
    tls = config.tls && { cert: await readFile(config.tls.cert), key: await readFile(config.tls.key) };
    auth = await openAuth(config, log, registry.meta);
  } catch (e) {
    clearInterval(sweep);
    await gc.stop();
    await registry.close();
    throw e;
  }
  const separateMetrics = metricsEndpoint && config.metrics.address !== undefined;
  const limits = {
    bodyTimeoutMs: config.bodyTimeoutSeconds * 1000,
    headersTimeoutMs: config.headersTimeoutSeconds * 1000,
    keepAliveTimeoutMs: config.keepAliveTimeoutSeconds * 1000,
    maxConnections: config.maxConnections,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
  };
  const audit = config.audit ? new AuditLog(config.audit) : undefined;
  const api = config.ui.enabled
    ? createApi({
        registry,
        ...(auth?.sessions ? { sessions: auth.sessions } : {}),
        tls: tls !== undefined,
        ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
        allowedHosts: config.allowedHosts,
        ...(config.retention ? { retention: config.retention } : {}),
        gracePeriodMs: config.gc.gracePeriodMs,
        ...(config.quotas ? { quotas: config.quotas } : {}),
        ...(signatureKeys ? { signatureKeys } : {}),
      })
    : undefined;
  const ui = config.ui.enabled ? await loadUi(log) : undefined;
  const { server, state } = createRegistryServer({
    registry,
    log,
    limits,
    ...(audit ? { audit } : {}),
    ...(api ? { api } : {}),
    ...(ui ? { ui } : {}),
    ...(auth ? { access: auth.access } : {}),
    ...(tls ? { tls } : {}),
    ...(metricsEndpoint ? { metrics: metricsEndpoint.metrics } : {}),
    ...(metricsEndpoint && !separateMetrics ? { metricsEndpoint } : {}),
  });
  const metricsServer = separateMetrics ? createMetricsServer(metricsEndpoint) : undefined;
  let address: string;
  let metricsAddress: string | undefined;
  let mirrors: { stop(): Promise<void> } | undefined;
  try {
    address = await listen(server, config.addr);
    if (metricsServer) metricsAddress = await listen(metricsServer, config.metrics.address!);
    // Their credentials and keys are read here: a missing one fails the start.
    if (config.mirrors)
      mirrors = await scheduleMirrors(
        registry,
        config.mirrors,
        log.child({ component: 'mirror' }),
        metricsEndpoint?.metrics,
      );
  } catch (e) {
    server.close();
    metricsServer?.close();
    clearInterval(sweep);
    await gc.stop();
    cache?.close();
    await registry.close();
    throw e;
  }
  const { host } = parseAddr(config.addr);
  const dispatcher =
    endpoints.length > 0
      ? new Dispatcher(
          {
            config: config.events,
            meta: registry.meta,
            source: config.publicUrl ?? `${tls ? 'https' : 'http'}://${address}`,
            log,
            ...(metricsEndpoint ? { metrics: metricsEndpoint.metrics } : {}),
          },
          endpoints,
        )
      : undefined;
  dispatcher?.start();
  if (metricsAddress)
    log.info({ address: metricsAddress, bearerToken: metricsEndpoint?.bearerToken !== undefined }, 'metrics listening');
  if (!isLoopback(host) && !auth) {
    log.warn(
      { address },
      'listening beyond loopback with no authentication: anyone who can reach this port can push and delete',
    );
  }
  const sendFileMissing = sendFileProblem();
  if (sendFileMissing) {
    log.warn(
      { reason: sendFileMissing },
      'the sendfile addon (native/) did not load: blob downloads stream through user space; build it with `npm run build:native`',
    );
  }
  // Scripts and tests wait for this line, so it is printed even at --log-level warn.
  const announce = log.isLevelEnabled('info') || log.level === 'silent' ? log : log.child({}, { level: 'info' });
  announce.info(
    {
      address,
      ...(metricsAddress ? { metrics: metricsAddress } : {}),
      data: config.data,
      storage: describeStorage(config.storage),
      tls: tls !== undefined,
      auth: config.auth?.mode ?? 'none',
      sendfile: sendFileAvailable(),
    },
    'listening',
  );

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      state.ready = false;
      clearInterval(sweep);
      const gcStopped = gc.stop();
      const mirrorsStopped = mirrors?.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Keep-alive connections become idle as their last request finishes: close them then.
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      idle.unref();
      const grace = setTimeout(() => {
        log.warn('grace period over: closing remaining connections');
        server.closeAllConnections();
      }, config.shutdownGraceSeconds * 1000);
      grace.unref();
      await closed;
      if (metricsServer) {
        const metricsClosed = new Promise<void>((resolve) => metricsServer.close(() => resolve()));
        metricsServer.closeAllConnections();
        await metricsClosed;
      }
      clearTimeout(grace);
      clearInterval(idle);
      await gcStopped;
      await mirrorsStopped;
      await dispatcher?.stop();
      cache?.close();
      await registry.close();
      await audit?.close().catch((err: unknown) => log.error({ err }, 'the audit trail could not be written'));
      log.info('stopped');
    })());
  return { address, ...(metricsAddress ? { metricsAddress } : {}), shutdown };
}

/** The built web UI; a package without it still serves the registry (and says why the UI is missing). */
async function loadUi(log: Logger): Promise<StaticUi | undefined> {
  try {
    return await StaticUi.load();
  } catch (err) {
    log.warn({ err }, 'the web UI could not be loaded: serving without it (build it with `npm run build`)');
    return undefined;
  }
}

/** The pull-through cache over the `proxy:` entries, their credentials read now (a missing one fails the start). */
async function openPullThroughCache(
  registry: Registry,
  config: ServeConfig,
  log: Logger,
  metrics: Metrics | undefined,
): Promise<PullThroughCache> {
  const entries = [];
  for (const rule of config.proxy ?? []) {
    const credentials = await loadUpstreamCredentials(rule);
    entries.push({ rule, ...(credentials ? { credentials } : {}) });
  }
  log.info(
    {
      proxy: entries.map(({ rule, credentials }) => ({
        prefix: rule.prefix,
        upstreams: rule.upstreams,
        tagTtlSeconds: rule.tagTtlSeconds,
        readOnly: rule.readOnly,
        authenticated: credentials !== undefined,
      })),
    },
    'pull-through cache',
  );
  return new PullThroughCache(registry, entries, {
    log: log.child({ component: 'proxy' }),
    ...(metrics ? { metrics } : {}),
  });
}

async function openMetrics(config: ServeConfig): Promise<MetricsEndpoint | undefined> {
  if (!config.metrics.enabled) return undefined;
  const token = config.metrics.bearerTokenFile
    ? (await readFile(config.metrics.bearerTokenFile, 'utf8')).trim()
    : config.metrics.bearerToken;
  if (token === '') throw new Error(`metrics bearer token file ${config.metrics.bearerTokenFile} is empty`);
  return { metrics: new Metrics(), ...(token !== undefined ? { bearerToken: token } : {}) };
}

/** Listens on host:port (port 0: a free one) and returns the bound address as host:port. */
async function listen(server: NetServer, addr: string): Promise<string> {
  const { host, port } = parseAddr(addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host === '' ? undefined : host, () => resolve());
  });
  const info = server.address() as AddressInfo;
  return info.family === 'IPv6' ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
}
