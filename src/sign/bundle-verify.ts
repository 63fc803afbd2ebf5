/**
 * Verifying a Sigstore bundle against an artifact, offline (pure), in the order and
 * with the checks of sigstore-go's verifier as cosign v3 configures it:
 *
 *   keyless (certificate):
 *     1. every log entry's proofs verify against a log of the trusted root (inclusion
 *        proof + signed checkpoint, signed entry timestamp); at least one entry;
 *     2. every RFC 3161 timestamp verifies against a TSA of the trusted root;
 *     3. the verified times (integrated times vouched for by a SET, TSA genTimes) —
 *        at least one — all fall within the certificate's validity, and the
 *        certificate chains to a Fulcio CA of the trusted root valid at those times;
 *     4. an embedded SCT verifies with a CT log of the trusted root;
 *     5. the identity (SAN) and OIDC issuer match the policy;
 *     6. every log entry's body records this signature, certificate and digest;
 *     7. the signature verifies over the content (message or DSSE PAE), and the
 *        content is about this artifact (message digest, or an in-toto subject).
 *   key-based (publicKey): 7 with one of the given keys; 1, 2 and 6 too when a trusted
 *     root is given (a key has no validity window, so no time is needed).
 *
 *   const result = verifyBundle(parseBundle(json), artifactFromBytes(bytes), { trustedRoot, identity });
 */
import { type X509Certificate, createHash, verify, type KeyObject } from 'node:crypto';
import { pae, type Bundle, type BundleContent } from './bundle.js';
import { CertificateError, certificateIdentity, verifiedScts, verifyChain } from './fulcio.js';
import type { TrustedKey } from './keys.js';
import { verifyDigestSignature } from './prehashed.js';
import { TimestampError, verifyTimestamp } from './rfc3161.js';
import { TlogError, verifyEntryBody, verifyEntryProofs } from './transparency-log.js';
import type { TrustedRoot } from './trusted-root.js';

export class BundleVerificationError extends Error {}

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const IN_TOTO_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];

/** cosign's identity flags: exact values or (unanchored, as Go's regexp.MatchString) patterns. */
export interface IdentityPolicy {
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
  issuerRegexp?: string;
}

export interface BundlePolicy {
  /** Key-based verification: the bundle must be signed by one of these. */
  keys?: readonly TrustedKey[];
  /** Keyless verification needs it; key-based uses it to check log entries and timestamps. */
  trustedRoot?: TrustedRoot;
  /** Keyless: who must have signed. */
  identity?: IdentityPolicy;
  /** `--insecure-ignore-tlog`: no log entry required (and none checked). */
  ignoreTlog?: boolean;
  /** `--insecure-ignore-sct`: no SCT required. */
  ignoreSct?: boolean;
  /** The verifier's clock (future integrated times are refused). */
  now?: Date;
}

export interface Artifact {
  /** The bytes, when at hand (else a message signature is checked over the digest). */
  bytes?: Buffer;
  /** Hex digests by algorithm name (sha256, and sha384/sha512 when known). */
  digests: Record<string, string>;
}

export function artifactFromBytes(bytes: Buffer): Artifact {
  const digests: Record<string, string> = {};
  for (const alg of ['sha256', 'sha384', 'sha512']) digests[alg] = createHash(alg).update(bytes).digest('hex');
  return { bytes, digests };
}

export interface InTotoStatement {
  type: string;
  predicateType: string;
  subjects: { name?: string; digest: Record<string, string>; annotations?: Record<string, unknown> }[];
  predicate: unknown;
}

export type Signer =
  { kind: 'key'; key: string; hint: string } | { kind: 'certificate'; identity: string; issuer: string; ca: string };

export interface BundleVerification {
  signer: Signer;
  content: 'message-signature' | 'dsse-envelope';
  statement?: InTotoStatement;
  /** Times proven by the log (integrated time) or a timestamp authority. */
  timestamps: { source: 'tlog' | 'tsa'; time: string; authority: string }[];
  /** Log entries whose proofs and bodies verified (0 when not checked). */
  tlogEntries: number;
}

const ALGORITHMS: Record<string, string> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' };
const CURVE_HASH: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

/** A signature by `key` over `data`, with the hash sigstore pairs with the key. */
export function verifyWithKey(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    if (key.asymmetricKeyType === 'ed25519') return verify(null, data, key, sig);
    const own = key.asymmetricKeyType === 'ec' ? CURVE_HASH[key.asymmetricKeyDetails?.namedCurve ?? ''] : 'sha256';
    if (!own) return false;
    return [...new Set([own, 'sha256'])].some((h) => verify(h, data, key, sig));
  } catch {
    return false;
  }
}

const fail = (message: string): never => {
  throw new BundleVerificationError(message);
};

function signatureOf(content: BundleContent): Buffer {
  return content.kind === 'messageSignature' ? content.signature : content.envelope.signature;
}

/** Does the content's signature verify with `key` (over the DSSE PAE, or the artifact or its digest)? */
function contentSigned(key: KeyObject, content: BundleContent, artifact: Artifact): boolean {
  if (content.kind === 'dsseEnvelope')
    return verifyWithKey(key, pae(content.envelope.payloadType, content.envelope.payload), content.envelope.signature);
  if (artifact.bytes) return verifyWithKey(key, artifact.bytes, content.signature);
  // Only the digest is known (a streamed blob): verify over it.
  const hash = content.digest ? ALGORITHMS[content.digest.algorithm] : 'sha256';
  const digest = hash ? artifact.digests[hash] : undefined;
  if (!hash || !digest) return fail("the artifact's digest for this message signature is not known");
  return verifyDigestSignature(key, hash, Buffer.from(digest, 'hex'), content.signature);
}

function parseStatement(payload: Buffer): InTotoStatement {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return fail('the DSSE payload is not JSON');
  }
  const d = doc as Record<string, unknown>;
  if (typeof d !== 'object' || d === null || typeof d._type !== 'string' || !IN_TOTO_TYPES.includes(d._type))
    return fail('the DSSE payload is not an in-toto statement');
  if (!Array.isArray(d.subject) || typeof d.predicateType !== 'string')
    return fail('the in-toto statement has no subject or predicateType');
  const subjects = d.subject.map((s: unknown) => {
    const o = s as Record<string, unknown>;
    const digest =
      typeof o === 'object' && o !== null && typeof o.digest === 'object' && o.digest !== null
        ? (o.digest as Record<string, unknown>)
        : {};
    const annotations =
      typeof o?.annotations === 'object' && o.annotations !== null && !Array.isArray(o.annotations)
        ? (o.annotations as Record<string, unknown>)
        : undefined;
    return {
      ...(typeof o?.name === 'string' ? { name: o.name } : {}),
      ...(annotations ? { annotations } : {}),
      digest: Object.fromEntries(Object.entries(digest).filter((e): e is [string, string] => typeof e[1] === 'string')),
    };
  });
  return { type: d._type, predicateType: d.predicateType, subjects, predicate: d.predicate };
}

/** Is the content about this artifact? Returns the statement of a DSSE envelope. */
function checkArtifact(content: BundleContent, artifact: Artifact): InTotoStatement | undefined {
  if (content.kind === 'messageSignature') {
    if (content.digest) {
      const alg = ALGORITHMS[content.digest.algorithm];
      const mine = alg ? artifact.digests[alg] : undefined;
      if (!mine)
        fail(`the bundle's message digest uses ${content.digest.algorithm}, which is not known for the artifact`);
      if (mine !== content.digest.value.toString('hex')) fail("the bundle's message digest is not the artifact's");
    }
    return undefined;
  }
  if (content.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    fail(`the DSSE payload type is ${content.envelope.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  const statement = parseStatement(content.envelope.payload);
  const matches = statement.subjects.some((s) =>
    Object.entries(s.digest).some(
      ([alg, hex]) => artifact.digests[alg] !== undefined && artifact.digests[alg] === hex.toLowerCase(),
    ),
  );
  if (!matches) fail('provided artifact digest does not match any digest in the statement');
  return statement;
}

function regexp(pattern: string, flag: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch {
    return fail(`${flag} ${JSON.stringify(pattern)} is not a valid regular expression`);
  }
}

/** Does the certificate's identity satisfy the policy (cosign's flag semantics)? */
export function identityMatches(id: { san: string; issuer: string }, p: IdentityPolicy): string | undefined {
  if (p.identity !== undefined && id.san !== p.identity)
    return `the certificate identity is ${JSON.stringify(id.san)}, not ${JSON.stringify(p.identity)}`;
  if (p.identityRegexp !== undefined && !regexp(p.identityRegexp, '--certificate-identity-regexp').test(id.san))
    return `the certificate identity ${JSON.stringify(id.san)} does not match ${JSON.stringify(p.identityRegexp)}`;
  if (p.issuer !== undefined && id.issuer !== p.issuer)
    return `the certificate's OIDC issuer is ${JSON.stringify(id.issuer)}, not ${JSON.stringify(p.issuer)}`;
  if (p.issuerRegexp !== undefined && !regexp(p.issuerRegexp, '--certificate-oidc-issuer-regexp').test(id.issuer))
    return `the certificate's OIDC issuer ${JSON.stringify(id.issuer)} does not match ${JSON.stringify(p.issuerRegexp)}`;
  return undefined;
}

/** Log entries and RFC 3161 timestamps, checked against the trusted root: the verified times. */
function verifyTimes(
  bundle: Bundle,
  root: TrustedRoot,
  material: { certificate?: X509Certificate; key: KeyObject },
  now: Date,
): { timestamps: BundleVerification['timestamps']; entries: number } {
  const timestamps: BundleVerification['timestamps'] = [];
  for (const entry of bundle.tlogEntries) {
    const v = verifyEntryProofs(entry, root.tlogs, now);
    verifyEntryBody(entry, bundle.content, material);
    if (v.integratedTime)
      timestamps.push({ source: 'tlog', time: v.integratedTime.toISOString(), authority: v.log.baseUrl });
  }
  for (const der of bundle.rfc3161Timestamps) {
    const t = verifyTimestamp(der, signatureOf(bundle.content), root.timestampAuthorities);
    timestamps.push({
      source: 'tsa',
      time: t.time.toISOString(),
      authority: t.authority.uri || t.authority.chain[0]!.subject,
    });
  }
  return { timestamps, entries: bundle.tlogEntries.length };
}

function verifyKeyless(
  bundle: Bundle,
  cert: X509Certificate,
  artifact: Artifact,
  policy: BundlePolicy,
): BundleVerification {
  const root = policy.trustedRoot ?? fail('a certificate-signed bundle needs a trusted root (--trusted-root)');
  const wanted =
    policy.identity ??
    fail(
      'a certificate-signed bundle needs an identity and issuer to match (--certificate-identity[-regexp], --certificate-oidc-issuer[-regexp])',
    );
  if (!policy.ignoreTlog && bundle.tlogEntries.length === 0) fail('the bundle has no transparency log entry');
  const { timestamps, entries } = verifyTimes(
    bundle,
    root,
    { certificate: cert, key: cert.publicKey },
    policy.now ?? new Date(),
  );
  if (timestamps.length === 0)
    fail(
      'no verified timestamp proves when the certificate signed (neither a signed log entry time nor an RFC 3161 timestamp)',
    );
  const ca = verifyChain(
    cert,
    root.certificateAuthorities,
    timestamps.map((t) => new Date(t.time)),
  );
  if (!policy.ignoreSct) {
    const issuer = ca.chain.find((c) => !c.raw.equals(cert.raw))!;
    if (verifiedScts(cert, issuer, root.ctlogs) === 0)
      fail('the certificate carries no SCT from a CT log of the trusted root');
  }
  const id = certificateIdentity(cert);
  const mismatch = identityMatches(id, wanted);
  if (mismatch) fail(mismatch);
  if (!contentSigned(cert.publicKey, bundle.content, artifact))
    fail('the signature does not verify with the certificate');
  const statement = checkArtifact(bundle.content, artifact);
  return {
    signer: {
      kind: 'certificate',
      identity: id.san,
      issuer: id.issuer,
      ca: ca.uri || ca.chain[ca.chain.length - 1]!.subject,
    },
    content: bundle.content.kind === 'messageSignature' ? 'message-signature' : 'dsse-envelope',
    ...(statement ? { statement } : {}),
    timestamps,
    tlogEntries: entries,
  };
}

function verifyKeyed(bundle: Bundle, artifact: Artifact, policy: BundlePolicy): BundleVerification {
  const keys = policy.keys ?? [];
  if (keys.length === 0) fail('the bundle is signed with a key: verify it with --key');
  const key = keys.find((k) => contentSigned(k.key, bundle.content, artifact));
  if (!key)
    fail(
      keys.length === 1
        ? `the signature does not verify with ${keys[0]!.source}`
        : `the signature verifies with none of ${keys.map((k) => k.source).join(', ')}`,
    );
  const statement = checkArtifact(bundle.content, artifact);
  let checked = { timestamps: [] as BundleVerification['timestamps'], entries: 0 };
  if (policy.trustedRoot && !policy.ignoreTlog)
    checked = verifyTimes(bundle, policy.trustedRoot, { key: key!.key }, policy.now ?? new Date());
  return {
    signer: { kind: 'key', key: key!.source, hint: key!.hint },
    content: bundle.content.kind === 'messageSignature' ? 'message-signature' : 'dsse-envelope',
    ...(statement ? { statement } : {}),
    timestamps: checked.timestamps,
    tlogEntries: checked.entries,
  };
}

/** Verifies `bundle` for `artifact` under `policy`; throws BundleVerificationError saying why not. */
export function verifyBundle(bundle: Bundle, artifact: Artifact, policy: BundlePolicy): BundleVerification {
  try {
    if (bundle.key.kind === 'certificate') {
      if (policy.keys && policy.keys.length > 0 && !policy.identity)
        fail('the bundle is signed with a certificate, not with a key');
      return verifyKeyless(bundle, bundle.key.certificate, artifact, policy);
    }
    return verifyKeyed(bundle, artifact, policy);
  } catch (e) {
    if (e instanceof TlogError || e instanceof TimestampError || e instanceof CertificateError)
      throw new BundleVerificationError(e.message);
    throw e;
  }
}
