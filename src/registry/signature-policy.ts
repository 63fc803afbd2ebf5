/**
 * Registry-side signature enforcement: for repositories matching a
 * `require_signatures` glob, a manifest's content is served only when a cosign
 * signature stored in that repository verifies with the glob's keys or keyless rule
 * (Sigstore bundle referrers, and legacy `.sig` layers signed by a key or keyless). Checked here,
 * from the stored signature manifests and payload blobs — no network.
 *
 * What is refused, and what is not:
 *   - refused: the content of a manifest (GET by tag or digest, and GET of its bytes
 *     through the blobs endpoint) that no trusted signature covers;
 *   - allowed: a manifest whose own signature verifies, or an index's child when a
 *     signed index in the repository lists it (cosign signs the index a tag names;
 *     clients then fetch its platform manifests by digest);
 *   - allowed: signature material itself (`.sig` images, cosign/Sigstore/Notation
 *     referrers, referrers-list indexes), so verifiers can read it;
 *   - never checked: HEAD (no content: clients resolve tags, and `stowage sign` needs
 *     the digest of what it is about to sign), blobs, tag lists, the referrers API.
 * A refusal is a 403 DENIED whose message says what is missing.
 */
import { basename } from 'node:path';
import { compileGlob } from '../core/repository-glob.js';
import { digestBytes } from '../core/digest.js';
import { RegistryError } from '../core/errors.js';
import { isIndexType } from '../core/media-types.js';
import { MAX_PAYLOAD_BYTES } from '../sign/check.js';
import { checkLegacyLayer } from '../sign/legacy-layer.js';
import type { TrustedKey } from '../sign/keys.js';
import {
  BUNDLE_ARTIFACT_TYPE,
  MAX_BUNDLE_BYTES,
  SIGNATURE_ARTIFACT_TYPE,
  isSignatureArtifact,
  parseBundleReferrer,
  parseSignatureManifest,
  signatureTag,
  type SignatureLayer,
} from '../sign/signature-manifest.js';
import type { TrustedRoot } from '../sign/trusted-root.js';
import { checkBundleBytes } from '../sign/bundle-check.js';
import type { BundlePolicy, IdentityPolicy } from '../sign/bundle-verify.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { MetadataStore } from '../storage/metadata-store.js';

export interface PullCheckStore {
  meta: MetadataStore;
  blobs: BlobStore;
}

export interface ManifestContent {
  digest: string;
  mediaType: string;
  content: Buffer;
}

/** What the Registry asks before serving a manifest's content. */
export interface PullCheck {
  /** Throws a RegistryError (DENIED) when `manifest` may not be served from `repository`. */
  checkPull(store: PullCheckStore, repository: string, manifest: ManifestContent): Promise<void>;
}

interface Rule {
  pattern: string;
  regex: RegExp;
  keys: TrustedKey[];
  keyless?: { trustedRoot: TrustedRoot; identity: IdentityPolicy; describe: string };
}

/** Referrer manifests read per check at most. */
const MAX_REFERRERS = 100;
/** Signature checks remembered (payload digest + signature + digest → result): pure crypto results. */
const CACHE_SIZE = 2048;
/** An index of indexes of images is as deep as anyone nests. */
const MAX_DEPTH = 2;

/**
 * One `require_signatures` entry with its keys and trusted root already read and
 * parsed (at start-up, by src/config/signature-keys.ts): the registry reads no files.
 */
export interface SignatureRule {
  /** The repository glob as written. */
  repositories: string;
  keys: TrustedKey[];
  keyless?: { trustedRoot: TrustedRoot; identity: IdentityPolicy };
}

/** What a rule trusts, as the verifiers take it. */
const policyOf = (rule: Rule): BundlePolicy => ({
  keys: rule.keys,
  ...(rule.keyless ? { trustedRoot: rule.keyless.trustedRoot, identity: rule.keyless.identity } : {}),
});

export class SignaturePolicy implements PullCheck {
  private readonly cache = new Map<string, true | string>();
  /** Bundle verdicts (rule + digest + bundle digest): pure, except that a keyless verdict holds at any later time too. */
  private readonly bundleCache = new Map<string, true | string>();

  private readonly rules: readonly Rule[];

  constructor(rules: readonly SignatureRule[]) {
    this.rules = rules.map((r) => ({
      pattern: r.repositories,
      regex: compileGlob(r.repositories),
      keys: r.keys,
      ...(r.keyless
        ? {
            keyless: {
              ...r.keyless,
              describe: `identity ${r.keyless.identity.identity ?? `~${r.keyless.identity.identityRegexp}`} from ${r.keyless.identity.issuer ?? `~${r.keyless.identity.issuerRegexp}`}`,
            },
          }
        : {}),
    }));
  }

  /** The requirement that applies to a repository (the first glob that matches). */
  ruleFor(repository: string): { pattern: string; keys: readonly TrustedKey[] } | undefined {
    return this.rules.find((r) => r.regex.test(repository));
  }

  async checkPull(store: PullCheckStore, repository: string, manifest: ManifestContent): Promise<void> {
    const rule = this.rules.find((r) => r.regex.test(repository));
    if (!rule) return;
    if (isSignatureArtifact(manifest.content, manifest.mediaType)) return;
    const own = await this.verified(store, repository, manifest.digest, rule);
    if (own === true) return;
    if (await this.signedParent(store, repository, manifest.digest, rule, 1)) return;
    const trusted = [
      ...rule.keys.map((k) => basename(k.source)),
      ...(rule.keyless ? [rule.keyless.describe] : []),
    ].join(', ');
    throw new RegistryError(
      'DENIED',
      `${repository}@${manifest.digest} is not signed by a signer this registry trusts for ${rule.pattern} (${trusted}): ${own}; sign it with \`stowage sign\` or cosign`,
      { repository, digest: manifest.digest, requirement: rule.pattern },
    );
  }

  /** Is `digest` listed by an index in the repository whose signature verifies? */
  private async signedParent(
    store: PullCheckStore,
    repository: string,
    digest: string,
    rule: Rule,
    depth: number,
  ): Promise<boolean> {
    if (depth > MAX_DEPTH) return false;
    for (const parent of await store.meta.referencedBy(repository, digest)) {
      const m = await store.meta.getManifest(repository, parent);
      if (!m || !isIndexType(m.mediaType)) continue;
      if ((await this.verified(store, repository, parent, rule)) === true) return true;
      if (await this.signedParent(store, repository, parent, rule, depth + 1)) return true;
    }
    return false;
  }

  /** true, or why no signature of `digest` verifies. */
  private async verified(
    store: PullCheckStore,
    repository: string,
    digest: string,
    rule: Rule,
  ): Promise<true | string> {
    const signatures = await this.storedSignatures(store, repository, digest);
    const bundles = await this.bundleResults(store, repository, digest, rule);
    if (bundles.includes(true)) return true;
    if (signatures.length === 0 && bundles.length === 0)
      return `no signature found (Sigstore bundle referrers, tag ${signatureTag(digest)})`;
    let reason = bundles.find((b): b is string => b !== true) ?? '';
    for (const s of signatures) {
      const key = `${rule.pattern}\n${digest}\n${s.descriptor.digest}\n${JSON.stringify(s.descriptor.annotations ?? {})}`;
      let check = this.cache.get(key);
      if (!check) {
        const payload = await this.readVerified(store, repository, s.descriptor, MAX_PAYLOAD_BYTES);
        if (typeof payload === 'string') check = payload;
        else {
          const r = checkLegacyLayer(s.descriptor, payload, digest, policyOf(rule));
          check = typeof r === 'string' ? r : true;
          this.remember(key, check);
        }
      }
      if (check === true) return true;
      reason ||= check;
    }
    return `${signatures.length} signature${signatures.length === 1 ? '' : 's'} found, none verifies (${reason})`;
  }

  private remember(key: string, check: true | string): void {
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, check);
  }

  /** Each stored Sigstore bundle referrer of `digest`: verified (true), or why not. */
  private async bundleResults(
    store: PullCheckStore,
    repository: string,
    digest: string,
    rule: Rule,
  ): Promise<(true | string)[]> {
    const out: (true | string)[] = [];
    const policy = policyOf(rule);
    for (const r of (await store.meta.referrers(repository, digest, BUNDLE_ARTIFACT_TYPE)).slice(0, MAX_REFERRERS)) {
      const m = await store.meta.getManifest(repository, r.digest);
      const parsed = m ? parseBundleReferrer(m.content) : undefined;
      if (!parsed || parsed.subject !== digest) continue;
      const key = `${rule.pattern}\n${digest}\nbundle ${parsed.layer.digest}`;
      const cached = this.bundleCache.get(key);
      if (cached !== undefined) {
        out.push(cached);
        continue;
      }
      const bytes = await this.readVerified(store, repository, parsed.layer, MAX_BUNDLE_BYTES);
      const result = typeof bytes === 'string' ? bytes : checkBundleBytes(bytes, digest, policy);
      const verdict = typeof result === 'string' ? result : true;
      if (typeof bytes !== 'string') {
        if (this.bundleCache.size >= CACHE_SIZE) this.bundleCache.delete(this.bundleCache.keys().next().value!);
        this.bundleCache.set(key, verdict);
      }
      out.push(verdict);
    }
    return out;
  }

  /** Signature layers of the `.sig` tag and of cosign referrers of `digest`, as stored. */
  private async storedSignatures(store: PullCheckStore, repository: string, digest: string): Promise<SignatureLayer[]> {
    const out: SignatureLayer[] = [];
    const tagged = await store.meta.resolveTag(repository, signatureTag(digest));
    if (tagged) {
      const m = await store.meta.getManifest(repository, tagged);
      if (m) out.push(...(parseSignatureManifest(m.content)?.signatures ?? []));
    }
    const referrers = await store.meta.referrers(repository, digest, SIGNATURE_ARTIFACT_TYPE);
    for (const r of referrers.slice(0, MAX_REFERRERS)) {
      if (r.digest === tagged) continue;
      const m = await store.meta.getManifest(repository, r.digest);
      if (m) out.push(...(parseSignatureManifest(m.content)?.signatures ?? []));
    }
    return out;
  }

  /** A small blob this repository may see (a payload, a bundle), read whole and digest-checked; or why not. */
  private async readVerified(
    store: PullCheckStore,
    repository: string,
    d: { digest: string; size: number },
    limit: number,
  ): Promise<Buffer | string> {
    if (d.size > limit) return `a blob of ${d.size} bytes is not a signature`;
    const link = await store.meta.blobLink(repository, d.digest);
    if (!link || link.size !== d.size) return `the payload ${d.digest} is not in ${repository}`;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of await store.blobs.read(d.digest)) {
      size += (c as Buffer).length;
      if (size > limit) return `the payload ${d.digest} is larger than its descriptor says`;
      chunks.push(c as Buffer);
    }
    const bytes = Buffer.concat(chunks);
    if (!d.digest.startsWith('sha256:') || digestBytes(bytes).value !== d.digest)
      return `the payload ${d.digest} does not match its digest`;
    return bytes;
  }
}
