/**
 * The `events:` section (pure): webhook endpoints and delivery settings.
 *
 *   events:
 *     pulls: false               # manifest.pulled events (the hot path): off by default
 *     timeout: 10s               # one delivery attempt
 *     retry_initial: 1s          # backoff doubles from here …
 *     retry_max: 5m              # … up to here
 *     give_up_after: 24h         # an event older than this is kept as failed
 *     endpoints:
 *       - name: flux
 *         url: http://flux-webhook.example/hook/0123abcd
 *         format: flux-generic-hmac     # cloudevents | distribution | flux-generic-hmac | flux-harbor
 *         token_file: ./secrets/flux-token
 *         repositories: ["team/**"]
 *         kinds: [manifest.pushed]
 *         media_types: [...]; artifact_types: [...]; tags: "^v\\d+"
 */
import { compileGlob } from '../core/repository-glob.js';
import { EVENT_KINDS, type EventFilter, type EventKind } from '../core/events.js';
import { parseDurationMs } from './lifecycle-config.js';

export const EVENT_FORMATS = ['cloudevents', 'distribution', 'flux-generic-hmac', 'flux-harbor'] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

export interface EndpointConfig {
  name: string;
  url: string;
  format: EventFormat;
  /** The secret (HMAC key or Authorization value): read at start, one trailing newline dropped. */
  tokenFile?: string;
  filter: EventFilter;
}

export interface EventsConfig {
  pulls: boolean;
  timeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  giveUpAfterMs: number;
  endpoints: EndpointConfig[];
}

export const EVENTS_OFF: EventsConfig = {
  pulls: false,
  timeoutMs: 10_000,
  retryInitialMs: 1_000,
  retryMaxMs: 300_000,
  giveUpAfterMs: 24 * 3_600_000,
  endpoints: [],
};

export class EventsConfigError extends Error {}

function mapping(raw: unknown, what: string, allowed: string[]): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new EventsConfigError(`${what} must be a mapping`);
  for (const k of Object.keys(raw))
    if (!allowed.includes(k))
      throw new EventsConfigError(`${what}: unknown setting "${k}" (allowed: ${allowed.join(', ')})`);
  return raw as Record<string, unknown>;
}

function strings(v: unknown, what: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === ''))
    throw new EventsConfigError(`${what} must be a list of strings`);
  return v as string[];
}

function duration(v: unknown, what: string, fallback: number): number {
  if (v === undefined) return fallback;
  try {
    return parseDurationMs(v, what);
  } catch (e) {
    throw new EventsConfigError((e as Error).message);
  }
}

export function parseEvents(raw: unknown): EventsConfig {
  if (raw === undefined || raw === null) return EVENTS_OFF;
  const m = mapping(raw, 'events', ['pulls', 'timeout', 'retry_initial', 'retry_max', 'give_up_after', 'endpoints']);
  if (m.pulls !== undefined && typeof m.pulls !== 'boolean')
    throw new EventsConfigError('events.pulls must be true or false');
  const list = m.endpoints ?? [];
  if (!Array.isArray(list)) throw new EventsConfigError('events.endpoints must be a list');
  const names = new Set<string>();
  const endpoints = list.map((e, i) => {
    const what = `events.endpoints[${i}]`;
    const x = mapping(e, what, [
      'name',
      'url',
      'format',
      'token_file',
      'repositories',
      'kinds',
      'media_types',
      'artifact_types',
      'tags',
    ]);
    if (typeof x.name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(x.name))
      throw new EventsConfigError(`${what}.name must be 1-64 letters, digits, ".", "_" or "-"`);
    if (names.has(x.name)) throw new EventsConfigError(`${what}: endpoint name "${x.name}" is used twice`);
    names.add(x.name);
    if (typeof x.url !== 'string' || !/^https?:\/\//.test(x.url))
      throw new EventsConfigError(`${what}.url must be an http:// or https:// URL`);
    const format = (x.format ?? 'cloudevents') as EventFormat;
    if (!EVENT_FORMATS.includes(format))
      throw new EventsConfigError(`${what}.format must be one of ${EVENT_FORMATS.join(', ')}`);
    if (x.token_file !== undefined && (typeof x.token_file !== 'string' || x.token_file === ''))
      throw new EventsConfigError(`${what}.token_file must be a path`);
    if (format.startsWith('flux-') && x.token_file === undefined)
      throw new EventsConfigError(`${what}: format ${format} needs token_file (the Receiver's token)`);
    const kinds = strings(x.kinds, `${what}.kinds`);
    for (const k of kinds ?? [])
      if (!EVENT_KINDS.includes(k as EventKind))
        throw new EventsConfigError(`${what}.kinds: unknown kind "${k}" (known: ${EVENT_KINDS.join(', ')})`);
    const filter: EventFilter = {};
    const repos = strings(x.repositories, `${what}.repositories`);
    try {
      if (repos) filter.repositories = repos.map(compileGlob);
      if (x.tags !== undefined) {
        if (typeof x.tags !== 'string') throw new EventsConfigError(`${what}.tags must be a regular expression`);
        filter.tag = new RegExp(x.tags);
      }
    } catch (err) {
      throw new EventsConfigError(`${what}: ${(err as Error).message}`);
    }
    if (kinds) filter.kinds = kinds as EventKind[];
    const mediaTypes = strings(x.media_types, `${what}.media_types`);
    if (mediaTypes) filter.mediaTypes = mediaTypes;
    const artifactTypes = strings(x.artifact_types, `${what}.artifact_types`);
    if (artifactTypes) filter.artifactTypes = artifactTypes;
    return {
      name: x.name,
      url: x.url,
      format,
      ...(x.token_file !== undefined ? { tokenFile: x.token_file as string } : {}),
      filter,
    };
  });
  return {
    pulls: (m.pulls as boolean | undefined) ?? false,
    timeoutMs: duration(m.timeout, 'events.timeout', EVENTS_OFF.timeoutMs),
    retryInitialMs: duration(m.retry_initial, 'events.retry_initial', EVENTS_OFF.retryInitialMs),
    retryMaxMs: duration(m.retry_max, 'events.retry_max', EVENTS_OFF.retryMaxMs),
    giveUpAfterMs: duration(m.give_up_after, 'events.give_up_after', EVENTS_OFF.giveUpAfterMs),
    endpoints,
  };
}
