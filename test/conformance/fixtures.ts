/**
 * The content the specs push, built as setup.go's init builds it: a config
 * blob with a random author per slot (so digests are new on every run),
 * manifests marshalled like Go's json.MarshalIndent(v, "", "\t") of the
 * suite's image-spec structs (field order, omitempty, []byte as base64, nil
 * slices as null), the referrers artifacts and the chunked blob.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';

export interface TestBlob {
  content: Buffer;
  contentLength: string;
  digest: string;
}

export const MT = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  empty: 'application/vnd.oci.empty.v1+json',
} as const;

export function sha256(b: Buffer | string): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** setup.go's descriptor struct, fields in its order. */
interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  data?: Buffer;
  artifactType?: string;
  newUnspecifiedField?: Buffer;
}

function goDescriptor(d: Descriptor): Record<string, unknown> {
  const o: Record<string, unknown> = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.annotations && Object.keys(d.annotations).length) o.annotations = d.annotations;
  if (d.data?.length) o.data = d.data.toString('base64');
  if (d.artifactType) o.artifactType = d.artifactType;
  o.newUnspecifiedField = d.newUnspecifiedField ? d.newUnspecifiedField.toString('base64') : null;
  return o;
}

interface Manifest {
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

function goManifest(m: Manifest): Buffer {
  const o: Record<string, unknown> = { schemaVersion: 2 };
  if (m.mediaType) o.mediaType = m.mediaType;
  if (m.artifactType) o.artifactType = m.artifactType;
  o.config = goDescriptor(m.config);
  o.layers = m.layers.map(goDescriptor);
  if (m.subject) o.subject = goDescriptor(m.subject);
  if (m.annotations) o.annotations = sortKeys(m.annotations);
  return Buffer.from(JSON.stringify(o, null, '\t'));
}

interface Index {
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

function goIndex(i: Index): Buffer {
  const o: Record<string, unknown> = { schemaVersion: 2 };
  if (i.mediaType) o.mediaType = i.mediaType;
  if (i.artifactType) o.artifactType = i.artifactType;
  o.manifests = i.manifests.map(goDescriptor);
  if (i.subject) o.subject = goDescriptor(i.subject);
  if (i.annotations) o.annotations = sortKeys(i.annotations);
  return Buffer.from(JSON.stringify(o, null, '\t'));
}

/** Go marshals map keys sorted. */
function sortKeys(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function blob(content: Buffer): TestBlob {
  return { content, contentLength: String(content.length), digest: sha256(content) };
}

/** randomString of setup.go: letters, digits and '-'. */
function randomString(n: number): string {
  const letters = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-';
  let s = '';
  for (let i = 0; i < n; i++) s += letters[randomInt(letters.length)];
  return s;
}

/** `echo 'you bothered to find out what was in here. Congratulations!' > test.txt; tar czvf` */
const LAYER_BASE64 =
  'H4sIAAAAAAAAA+3OQQrCMBCF4a49xXgBSUnaHMCTRBptQRNpp6i3t0UEV7oqIv7fYgbmzeJpHHSjVy0' +
  'WZCa1c/MufWVe94N3RWlrZ72x3k/30nhbFWKWLPU0Dhp6keJ8im//PuU/6pZH2WVtYx8b0Sz7LjWSR5VLG6YRBumSzOlGtjkd+qD' +
  'jMWiX07Befbs7AAAAAAAAAAAAAAAAAPyzO34MnqoAKAAA';

/** `pull = 1 << iota … numWorkflows`: one config and manifest slot per bit, 16 in all. */
const NUM_SLOTS = 16;

export const EMPTY_LAYER_TEST_TAG = 'emptylayer';
export const TEST_TAG_NAME = 'tagtest0';
export const NONEXISTENT_MANIFEST = '.INVALID_MANIFEST_NAME';
export const ANNOTATION_KEY = 'org.opencontainers.conformance.test';
export const ARTIFACT_TYPE_FILTER = 'artifactType';

/**
 * setup.go's error code list is a Go slice indexed by constants that start at
 * 5 (iota keeps counting after the workflow bits), so its first five entries
 * are empty strings; `ContainElement` checks run against the same list.
 */
export const ERROR_CODES: readonly string[] = [
  '',
  '',
  '',
  '',
  '',
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'MANIFEST_UNVERIFIED',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'TAG_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
];

export interface ChunkedBlob {
  blob: Buffer;
  digest: string;
  chunk1: Buffer;
  chunk1Length: string;
  chunk1Range: string;
  chunk2: Buffer;
  chunk2Length: string;
  chunk2Range: string;
}

/** setupChunkedBlob: two chunks, the first one byte longer than half. */
export function chunkedBlob(size: number): ChunkedBlob {
  const b = randomBytes(size);
  const c1 = b.subarray(0, Math.floor(size / 2) + 1);
  const c2 = b.subarray(Math.floor(size / 2) + 1);
  return {
    blob: b,
    digest: sha256(b),
    chunk1: c1,
    chunk1Length: String(c1.length),
    chunk1Range: `0-${c1.length - 1}`,
    chunk2: c2,
    chunk2Length: String(c2.length),
    chunk2Range: `${c1.length}-${b.length - 1}`,
  };
}

export interface Fixtures {
  configs: TestBlob[];
  manifests: TestBlob[];
  layer: TestBlob;
  emptyLayerManifest: TestBlob;
  invalidManifestContent: Buffer;
  blobA: TestBlob;
  chunked: ChunkedBlob;
  emptyJsonBlob: TestBlob;
  refBlobA: TestBlob;
  refBlobB: TestBlob;
  refArtifactTypeA: string;
  refArtifactTypeB: string;
  refArtifactTypeIndex: string;
  refsManifestAConfigArtifact: TestBlob;
  refsManifestBConfigArtifact: TestBlob;
  refsManifestALayerArtifact: TestBlob;
  refsManifestBLayerArtifact: TestBlob;
  refsManifestCLayerArtifact: TestBlob;
  refsIndexArtifact: TestBlob;
  /** Annotation value per referrer digest. */
  annotationValues: Map<string, string>;
  dummyDigest: string;
}

export function makeFixtures(overrides: { blobDigest?: string; manifestDigest?: string } = {}): Fixtures {
  const configs: TestBlob[] = [];
  for (let i = 0; i < NUM_SLOTS; i++) {
    const content = Buffer.from(
      JSON.stringify(
        { author: randomString(16), architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
        null,
        '\t',
      ),
    );
    const b = blob(content);
    if (overrides.blobDigest) b.digest = overrides.blobDigest;
    configs.push(b);
  }

  const layer = blob(Buffer.from(LAYER_BASE64, 'base64'));
  const layers: Descriptor[] = [{ mediaType: MT.layer, size: layer.content.length, digest: layer.digest }];

  const manifests: TestBlob[] = [];
  for (let i = 0; i < NUM_SLOTS; i++) {
    const c = configs[i]!;
    const content = goManifest({
      mediaType: MT.manifest,
      config: {
        mediaType: MT.config,
        digest: c.digest,
        size: c.content.length,
        data: c.content,
        newUnspecifiedField: Buffer.from('hello world'),
      },
      layers,
    });
    const m = blob(content);
    if (overrides.manifestDigest) m.digest = overrides.manifestDigest;
    manifests.push(m);
  }
  const m = (i: number) => manifests[i]!;
  const subject = (i: number): Descriptor => ({
    mediaType: MT.manifest,
    size: m(i).content.length,
    digest: sha256(m(i).content),
  });

  // No mediaType and no layers (the push workflow's "no layers" spec).
  const c1 = configs[1]!;
  const emptyLayerManifest = blob(
    goManifest({
      config: {
        mediaType: MT.config,
        digest: c1.digest,
        size: c1.content.length,
        data: c1.content,
        newUnspecifiedField: Buffer.from('hello world'),
      },
      layers: [],
    }),
  );

  const emptyJsonBlob = blob(Buffer.from('{}'));
  const emptyJson: Descriptor = { mediaType: MT.empty, size: 2, digest: emptyJsonBlob.digest };

  const refBlobA = blob(Buffer.from('NHL Peanut Butter on my NHL bagel'));
  const refArtifactTypeA = 'application/vnd.nhl.peanut.butter.bagel';
  const refBlobB = blob(Buffer.from('NBA Strawberry Jam on my NBA croissant'));
  const refArtifactTypeB = 'application/vnd.nba.strawberry.jam.croissant';
  const annotationValues = new Map<string, string>();
  const refA: Descriptor = { mediaType: refArtifactTypeA, size: refBlobA.content.length, digest: refBlobA.digest };
  const refB: Descriptor = { mediaType: refArtifactTypeB, size: refBlobB.content.length, digest: refBlobB.digest };
  /** An artifact with a subject; its annotation value is remembered for the referrers checks. */
  const referrer = (o: {
    artifactType?: string;
    config: Descriptor;
    layer: Descriptor;
    subjectSlot: number;
    annotation?: string;
  }): TestBlob => {
    const b = blob(
      goManifest({
        mediaType: MT.manifest,
        ...(o.artifactType ? { artifactType: o.artifactType } : {}),
        config: o.config,
        subject: subject(o.subjectSlot),
        layers: [o.layer],
        ...(o.annotation ? { annotations: { [ANNOTATION_KEY]: o.annotation } } : {}),
      }),
    );
    if (o.annotation) annotationValues.set(b.digest, o.annotation);
    return b;
  };

  // artifactType given by config.mediaType
  const refsManifestAConfigArtifact = referrer({
    config: refA,
    layer: emptyJson,
    subjectSlot: 4,
    annotation: 'test config a',
  });
  const refsManifestBConfigArtifact = referrer({
    config: refB,
    layer: emptyJson,
    subjectSlot: 4,
    annotation: 'test config b',
  });
  // artifactType field, config.mediaType = empty JSON
  const refsManifestALayerArtifact = referrer({
    artifactType: refArtifactTypeA,
    config: emptyJson,
    layer: refA,
    subjectSlot: 4,
    annotation: 'test layer a',
  });
  const refsManifestBLayerArtifact = referrer({
    artifactType: refArtifactTypeB,
    config: emptyJson,
    layer: refB,
    subjectSlot: 4,
    annotation: 'test layer b',
  });
  // Like B, but its subject (manifests[3]) is never pushed.
  const refsManifestCLayerArtifact = referrer({
    artifactType: refArtifactTypeB,
    config: emptyJson,
    layer: refB,
    subjectSlot: 3,
  });
  const refArtifactTypeIndex = 'application/vnd.food.stand';
  const refsIndexArtifact = blob(
    goIndex({
      mediaType: MT.index,
      artifactType: refArtifactTypeIndex,
      manifests: [refsManifestAConfigArtifact, refsManifestALayerArtifact].map((b) => ({
        mediaType: MT.manifest,
        size: b.content.length,
        digest: b.digest,
      })),
      subject: subject(4),
      annotations: { [ANNOTATION_KEY]: 'test index' },
    }),
  );
  annotationValues.set(refsIndexArtifact.digest, 'test index');

  return {
    configs,
    manifests,
    layer,
    emptyLayerManifest,
    invalidManifestContent: Buffer.from('blablabla'),
    blobA: blob(randomBytes(42)),
    chunked: chunkedBlob(42),
    emptyJsonBlob,
    refBlobA,
    refBlobB,
    refArtifactTypeA,
    refArtifactTypeB,
    refArtifactTypeIndex,
    refsManifestAConfigArtifact,
    refsManifestBConfigArtifact,
    refsManifestALayerArtifact,
    refsManifestBLayerArtifact,
    refsManifestCLayerArtifact,
    refsIndexArtifact,
    annotationValues,
    dummyDigest: sha256('hello world'),
  };
}
