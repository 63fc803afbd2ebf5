/**
 * The registry the interop tests exercise: Stowage by default.
 * STOWAGE_INTEROP_TARGET=distribution runs the same tests against Debian's
 * docker-registry instead — a baseline to tell client quirks from Stowage bugs.
 * STOWAGE_INTEROP_TARGET=external with STOWAGE_INTEROP_URL=http://127.0.0.1:PORT
 * uses an already running registry (e.g. Stowage under a debugger); it is not
 * stopped or cleaned afterwards.
 */
import { startDistribution } from './distribution.js';
import { startStowage } from './server.js';
import type { ChildProcess } from 'node:child_process';
import { trackChild } from './tools.js';

export interface RegistryUnderTest {
  kind: 'stowage' | 'distribution' | 'external';
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT */
  host: string;
  /** Recent server log output, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export async function startRegistryUnderTest(): Promise<RegistryUnderTest> {
  const target = process.env.STOWAGE_INTEROP_TARGET ?? 'stowage';
  if (target === 'distribution') {
    const d = await startDistribution();
    return {
      kind: 'distribution',
      url: d.url,
      host: d.host,
      logs: () => d.logs().slice(-20_000),
      stop: () => d.stop(),
    };
  }
  if (target === 'external') {
    const raw = process.env.STOWAGE_INTEROP_URL;
    if (!raw) throw new Error('STOWAGE_INTEROP_TARGET=external needs STOWAGE_INTEROP_URL=http://host:port');
    const url = new URL(raw);
    if (url.protocol !== 'http:') throw new Error('STOWAGE_INTEROP_URL must be a plain http:// URL');
    return { kind: 'external', url: url.origin, host: url.host, logs: () => '', stop: async () => {} };
  }
  if (target !== 'stowage') {
    throw new Error(`STOWAGE_INTEROP_TARGET must be "stowage", "distribution" or "external", got ${target}`);
  }
  const s = await startStowage();
  // Optional extras of the lead's helper: the ChildProcess and captured log lines.
  const extra = s as { child?: ChildProcess; logs?: string[] };
  if (extra.child) trackChild(extra.child);
  return {
    kind: 'stowage',
    url: s.url,
    host: s.host,
    logs: () => (extra.logs ?? []).slice(-200).join('\n'),
    stop: () => s.stop(),
  };
}
