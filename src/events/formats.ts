/**
 * The bodies and headers each endpoint format sends for one event (pure).
 * undefined: the format has nothing for this kind (Distribution has no tag.moved).
 */
import { createHmac } from 'node:crypto';
import type { RegistryEvent } from '../core/events.js';
import type { EventFormat } from '../config/events-config.js';

export interface Rendered {
  headers: Record<string, string>;
  body: string;
}

export interface RenderContext {
  /** The registry's URL (CloudEvents `source`, Distribution target URLs). */
  source: string;
  /** The endpoint's secret (HMAC key or Authorization value). */
  token?: string;
  /** This process (Distribution's source.instanceID). */
  instanceId: string;
}

export function render(format: EventFormat, e: RegistryEvent, ctx: RenderContext): Rendered | undefined {
  switch (format) {
    case 'cloudevents':
      return { headers: { 'Content-Type': 'application/cloudevents+json' }, body: cloudEvent(e, ctx) };
    case 'distribution': {
      const body = distributionEnvelope(e, ctx);
      return body === undefined
        ? undefined
        : { headers: { 'Content-Type': 'application/vnd.docker.distribution.events.v2+json' }, body };
    }
    case 'flux-generic-hmac': {
      // notification-controller recomputes HMAC-SHA256 of the exact body with the Receiver's token.
      const body = cloudEvent(e, ctx);
      return {
        headers: { 'Content-Type': 'application/json', 'X-Signature': `sha256=${hmacHex(ctx.token ?? '', body)}` },
        body,
      };
    }
    case 'flux-harbor': {
      const body = harborPayload(e, ctx);
      return body === undefined
        ? undefined
        : { headers: { 'Content-Type': 'application/json', Authorization: ctx.token ?? '' }, body };
    }
  }
}

export function hmacHex(key: string, body: string): string {
  return createHmac('sha256', key).update(body, 'utf8').digest('hex');
}

function subjectOf(e: RegistryEvent): string {
  return e.tag !== undefined ? `${e.repository}:${e.tag}` : e.digest ? `${e.repository}@${e.digest}` : e.repository;
}

/** CloudEvents 1.0, structured mode: attributes and `data` in one JSON object. */
export function cloudEvent(e: RegistryEvent, ctx: RenderContext): string {
  const { id, kind, at, request, ...data } = e;
  void request;
  return JSON.stringify({
    specversion: '1.0',
    id,
    source: ctx.source,
    type: `dev.stowage.${kind}`,
    subject: subjectOf(e),
    time: new Date(at).toISOString(),
    datacontenttype: 'application/json',
    data: { kind, ...data },
  });
}

const DISTRIBUTION_ACTIONS: Partial<Record<RegistryEvent['kind'], string>> = {
  'manifest.pushed': 'push',
  'manifest.deleted': 'delete',
  'tag.deleted': 'delete',
  'blob.mounted': 'mount',
  'manifest.pulled': 'pull',
  'gc.removed': 'delete',
};

/** Distribution's notifications envelope (notifications/event.go), fields in its order. */
export function distributionEnvelope(e: RegistryEvent, ctx: RenderContext): string | undefined {
  const action = DISTRIBUTION_ACTIONS[e.kind];
  if (!action) return undefined;
  const host = new URL(ctx.source).host;
  const target: Record<string, unknown> = {};
  if (e.mediaType !== undefined) target.mediaType = e.mediaType;
  if (e.digest !== undefined) target.digest = e.digest;
  if (e.size !== undefined) target.size = e.size;
  if (e.size !== undefined) target.length = e.size;
  target.repository = e.repository;
  if (e.fromRepository !== undefined) target.fromRepository = e.fromRepository;
  if (e.digest !== undefined)
    target.url = `${ctx.source}/v2/${e.repository}/${e.kind === 'blob.mounted' ? 'blobs' : 'manifests'}/${e.digest}`;
  if (e.tag !== undefined) target.tag = e.tag;
  const request: Record<string, string> = { id: e.request?.id ?? '' };
  if (e.request?.addr) request.addr = e.request.addr;
  request.host = e.request?.host || host;
  request.method = e.request?.method ?? '';
  request.useragent = e.request?.userAgent ?? '';
  return JSON.stringify({
    events: [
      {
        id: e.id,
        timestamp: new Date(e.at).toISOString(),
        action,
        target,
        request,
        actor: e.user !== undefined ? { name: e.user } : {},
        source: { addr: host, instanceID: ctx.instanceId },
      },
    ],
  });
}

/** Harbor's webhook payload (what Flux's `harbor` Receiver and Harbor-built tools read). */
export function harborPayload(e: RegistryEvent, ctx: RenderContext): string | undefined {
  const type =
    e.kind === 'manifest.pushed' ? 'PUSH_ARTIFACT' : e.kind === 'manifest.deleted' ? 'DELETE_ARTIFACT' : undefined;
  if (!type) return undefined;
  const host = new URL(ctx.source).host;
  const slash = e.repository.indexOf('/');
  return JSON.stringify({
    type,
    occur_at: Math.floor(e.at / 1000),
    operator: e.user ?? '',
    event_data: {
      resources: [
        {
          digest: e.digest ?? '',
          tag: e.tag ?? '',
          resource_url: `${host}/${e.repository}${e.tag !== undefined ? `:${e.tag}` : `@${e.digest ?? ''}`}`,
        },
      ],
      repository: {
        name: slash < 0 ? e.repository : e.repository.slice(slash + 1),
        namespace: slash < 0 ? '' : e.repository.slice(0, slash),
        repo_full_name: e.repository,
        repo_type: 'private',
      },
    },
  });
}
