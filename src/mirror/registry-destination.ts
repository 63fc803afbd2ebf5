/**
 * A mirror's destination inside `stowage serve`: the client library's Destination
 * (what copy and mirror push a manifest graph into) over this registry's own
 * operations.
 *
 * Why the registry operations and not the client against our own HTTP address: the
 * writes still go through everything a push goes through below HTTP — digest checks,
 * quotas, immutable tags, the subject index, events (manifest.pushed and
 * signature.added, with `stowage-mirror` as the actor) — while the server needs no
 * credentials for itself, opens no loopback connections, and keeps its layers one
 * way: HTTP maps requests onto these same calls; nothing here calls back up into it.
 */
import type { Readable } from 'node:stream';
import { digestBytes } from '../core/digest.js';
import { ERROR_CODES, RegistryError, RegistryErrors } from '../core/errors.js';
import { clientError } from '../client/index.js';
import type {
  BlobSource,
  Descriptor,
  Destination,
  FetchedManifest,
  ProgressListener,
  PushedManifest,
  Referrers,
  UploadResult,
} from '../client/index.js';
import type { CallerOptions, Registry } from '../registry/registry.js';

/** Upload sessions the mirror opens are its own: no HTTP caller can resume them. */
const OWNER = 'stowage-mirror';
const ANY_MANIFEST = new Set<string>();

export class RegistryDestination implements Destination {
  readonly registry = 'stowage.local';
  readonly client: { readonly concurrency: number; readonly emit: ProgressListener };
  private readonly caller: CallerOptions = { actor: { user: OWNER } };

  constructor(
    private readonly target: Registry,
    readonly name: string,
    opts: { concurrency?: number; emit?: ProgressListener } = {},
  ) {
    this.client = { concurrency: opts.concurrency ?? 4, emit: opts.emit ?? (() => undefined) };
  }

  pushBlob(desc: Descriptor, source: BlobSource): Promise<UploadResult> {
    return this.as(`storing blob ${desc.digest}`, () => this.storeBlob(desc, source));
  }

  private async storeBlob(desc: Descriptor, source: BlobSource): Promise<UploadResult> {
    try {
      await this.target.statBlob(this.name, desc.digest);
      return 'exists';
    } catch (e) {
      if (!isCode(e, 'BLOB_UNKNOWN', 'NAME_UNKNOWN')) throw e;
    }
    const upload = await this.target.startUpload(this.name, OWNER, { digest: desc.digest, size: desc.size });
    let body: Readable | undefined;
    try {
      body = await source.open(0);
      // completeUpload streams it into the blob store and checks digest and size.
      await this.target.completeUpload(this.name, upload.id, OWNER, desc.digest, body, undefined, desc.size);
    } catch (e) {
      body?.destroy();
      await this.target.cancelUpload(this.name, upload.id, OWNER).catch(() => undefined);
      throw e;
    }
    return 'uploaded';
  }

  async manifestExists(ref: string): Promise<Descriptor | undefined> {
    return (await this.as(`reading manifest ${ref}`, () => this.stored(ref)))?.descriptor;
  }

  async fetchManifest(ref: string): Promise<FetchedManifest> {
    const m = await this.as(`reading manifest ${ref}`, () => this.stored(ref));
    if (!m) throw clientError('MANIFEST_NOT_FOUND', { reference: `${this.name}:${ref}`, repository: this.name });
    return m;
  }

  pushManifest(bytes: Buffer, mediaType: string, ref?: string): Promise<PushedManifest> {
    const target = ref ?? digestBytes(bytes).value;
    return this.as(`storing manifest ${target}`, async () => {
      const r = await this.target.putManifest(this.name, target, mediaType, bytes, this.caller);
      // The registry indexes subjects itself: no referrers tag is needed.
      return { descriptor: { mediaType, digest: r.digest, size: bytes.length }, subjectHandled: true };
    });
  }

  referrers(digest: string, opts: { artifactType?: string } = {}): Promise<Referrers> {
    return this.as(`listing referrers of ${digest}`, async () => ({
      manifests: await this.target.referrers(this.name, digest, opts.artifactType),
      via: 'api' as const,
    }));
  }

  /** Registry errors as the client's (the mirror reports those per tag and goes on). */
  private async as<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const first = e instanceof RegistryErrors ? e.errors[0] : e;
      if (!(first instanceof RegistryError)) throw e;
      throw clientError(
        'REGISTRY_ERROR',
        {
          registry: 'this registry',
          operation: `${operation} in ${this.name}`,
          status: ERROR_CODES[first.code].status,
          code: first.code,
          detail: first.message,
        },
        { cause: e },
      );
    }
  }

  private async stored(ref: string): Promise<FetchedManifest | undefined> {
    try {
      const m = await this.target.getManifest(this.name, ref, ANY_MANIFEST);
      return { descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.size }, bytes: m.content };
    } catch (e) {
      if (isCode(e, 'MANIFEST_UNKNOWN', 'NAME_UNKNOWN')) return undefined;
      throw e;
    }
  }
}

const isCode = (e: unknown, ...codes: string[]): boolean => e instanceof RegistryError && codes.includes(e.code);
