/**
 * State shared by the four workflows and the helpers of setup.go (pushBlob,
 * pushManifest, deleteManifest(s), deleteBlob(s), getTagList), with the same
 * requests and expectations.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, type Response } from './client.js';
import { makeFixtures, MT, type Fixtures } from './fixtures.js';
import type { ConformanceOptions } from './options.js';

export class Context {
  readonly client: Client;
  readonly fx: Fixtures;
  readonly crossmountNamespace: string;
  readonly runPullSetup: boolean;
  readonly runContentDiscoverySetup: boolean;
  readonly runPushSetup = true;
  readonly runContentManagementSetup = true;
  readonly deleteManifestBeforeBlobs: boolean;
  readonly runAutomaticCrossmountTest: boolean;
  readonly automaticCrossmountEnabled: boolean;
  /** Warn() of setup.go: what the registry does not support but the suite tolerates. */
  readonly warnings: string[] = [];

  constructor(
    rootUrl: string,
    readonly options: ConformanceOptions,
  ) {
    this.client = new Client({
      rootUrl,
      namespace: options.namespace,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.authScope !== undefined ? { authScope: options.authScope } : {}),
      ...(options.debug ? { debug: options.debug } : {}),
    });
    this.fx = makeFixtures({
      ...(options.blobDigest ? { blobDigest: options.blobDigest } : {}),
      ...(options.manifestDigest ? { manifestDigest: options.manifestDigest } : {}),
    });
    this.crossmountNamespace = options.crossmountNamespace || `conformance-${randomUUID()}`;
    this.runPullSetup = !(options.tagName && options.manifestDigest && options.blobDigest);
    this.runContentDiscoverySetup = !options.tagList?.length;
    this.deleteManifestBeforeBlobs = options.deleteManifestBeforeBlobs ?? true;
    this.runAutomaticCrossmountTest = options.automaticCrossmount !== undefined;
    this.automaticCrossmountEnabled = options.automaticCrossmount === true;
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  async pushBlob(b: { digest: string; content: Buffer; type?: string }, refs: string[]): Promise<string[]> {
    let resp = await this.client.do('POST', '/v2/<name>/blobs/uploads/');
    expectStatus(resp, 202, 201);
    resp = await this.client.do('PUT', resp.relativeLocation(), {
      query: { digest: b.digest },
      headers: { 'Content-Type': b.type ?? 'application/octet-stream' },
      body: b.content,
    });
    expectStatus(resp, 201);
    return [...refs, b.digest];
  }

  /** Pushes by tag when given (else by digest); records the tag and the digest for teardown. */
  async pushManifest(
    m: { index?: boolean; tag?: string; digest: string; content: Buffer; subject?: string },
    refs: string[],
  ): Promise<string[]> {
    const reference = m.tag || m.digest;
    const resp = await this.client.do('PUT', '/v2/<name>/manifests/<reference>', {
      reference,
      headers: { 'Content-Type': m.index ? MT.index : MT.manifest },
      body: m.content,
    });
    expectStatus(resp, 201);
    assert.notEqual(resp.header('Location'), '', 'Location header is empty');
    // OCI-Subject is empty when the registry has no referrers API.
    assert.ok(
      [m.subject ?? '', ''].includes(resp.header('OCI-Subject')),
      `OCI-Subject is ${resp.header('OCI-Subject')}, want ${m.subject ?? ''} or none`,
    );
    const out = [...refs, reference];
    if (m.tag) out.push(m.digest);
    return out;
  }

  async deleteManifest(ref: string): Promise<void> {
    let resp = await this.client.do('GET', '/v2/<name>/manifests/<reference>', { reference: ref });
    if (resp.status !== 200) return;
    resp = await this.client.do('DELETE', '/v2/<name>/manifests/<reference>', { reference: ref });
    expectStatus(resp, 202, 405, 404);
    // Verbatim from setup.go: `<ref>` is no placeholder reggie knows, so this GET
    // asks for the literal reference "<ref>", which must be unknown (404).
    resp = await this.client.do('GET', '/v2/<name>/manifests/<ref>', { reference: ref });
    expectStatus(resp, 404);
  }

  /** Deletes the most recently pushed first. */
  async deleteManifests(refs: string[]): Promise<void> {
    for (const ref of [...refs].reverse()) await this.deleteManifest(ref);
  }

  /** A ref "repo/digest" names a blob outside the default repository. */
  async deleteBlob(ref: string): Promise<number> {
    const slash = ref.lastIndexOf('/');
    const resp =
      slash >= 0
        ? await this.client.do('DELETE', '/v2/<name>/blobs/<reference>', {
            name: ref.slice(0, slash),
            reference: ref.slice(slash + 1),
          })
        : await this.client.do('DELETE', '/v2/<name>/blobs/<reference>', { reference: ref });
    expectStatus(resp, 202, 404, 400, 405);
    return resp.status;
  }

  async deleteBlobs(refs: string[]): Promise<void> {
    for (const ref of [...refs].reverse()) await this.deleteBlob(ref);
  }
}

/** The `tags` of a tag list body; [] when it does not parse (getTagList). */
export function tagListOf(resp: Response): string[] {
  try {
    const body = JSON.parse(resp.text()) as { tags?: unknown };
    return Array.isArray(body.tags) ? (body.tags as string[]) : [];
  } catch {
    return [];
  }
}

export function expectStatus(resp: Response, ...allowed: number[]): void {
  if (!allowed.includes(resp.status)) {
    const body = resp.text().slice(0, 300);
    assert.fail(`status ${resp.status}, want ${allowed.join(' or ')}${body ? `: ${body}` : ''}`);
  }
}

/** `SatisfyAll(BeNumerically(">=", 200), BeNumerically("<", 300))`, optionally or one of `also`. */
export function expect2xx(resp: Response, ...also: number[]): void {
  if ((resp.status >= 200 && resp.status < 300) || also.includes(resp.status)) return;
  assert.fail(
    `status ${resp.status}, want 2xx${also.length ? ` or ${also.join(' or ')}` : ''}: ${resp.text().slice(0, 300)}`,
  );
}
