/**
 * RFC 3161 timestamps (pure), as a bundle's `timestampVerificationData` carries them:
 * a DER TimeStampResp (or bare TimeStampToken) whose CMS SignedData (RFC 5652) signs a
 * TSTInfo. Verified offline against the timestamp authorities of a trusted root:
 *
 *   - TSTInfo.messageImprint is the hash of the bundle's signature bytes;
 *   - the signed attributes' message-digest is the hash of the TSTInfo, and the
 *     signer's signature covers the signed attributes (re-tagged as a SET);
 *   - the signer certificate (embedded, or the authority's own leaf) chains to a
 *     timestamp authority of the trusted root, every certificate valid at genTime and
 *     genTime within the authority's validFor.
 */
import { X509Certificate, createHash, timingSafeEqual, verify } from 'node:crypto';
import {
  DerError,
  TAG,
  children,
  ctx,
  expectTag,
  integerValue,
  oidString,
  readDer,
  timeValue,
  type DerNode,
} from './der.js';
import { CertificateError, OID_TIME_STAMPING, extensions, verifyChain } from './fulcio.js';
import type { CertificateAuthority } from './trusted-root.js';

export class TimestampError extends Error {}

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const HASH_OIDS: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.3.14.3.2.26': 'sha1',
};
/** Signature algorithms that name their hash (ECDSA/RSA with SHA-2); else the digest algorithm's. */
const SIG_HASH_OIDS: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

const hashOf = (algId: DerNode | undefined, table: Record<string, string>): string | undefined => {
  const oid = algId ? children(algId)[0] : undefined;
  return oid ? table[oidString(oid)] : undefined;
};

/** The SignedData of a TimeStampResp or of a bare ContentInfo. */
function signedData(der: Buffer): DerNode {
  let top = readDer(der);
  const parts = children(top);
  // TimeStampResp: SEQUENCE { PKIStatusInfo SEQUENCE, timeStampToken ContentInfo }
  if (parts[0]?.tag === TAG.SEQUENCE) {
    const status = integerValue(children(parts[0])[0]!);
    if (status !== 0n && status !== 1n) throw new TimestampError(`the timestamp response has status ${status}`);
    top = expectTag(parts[1], TAG.SEQUENCE, 'timeStampToken');
  }
  const [type, content] = children(top);
  if (!type || oidString(type) !== OID_SIGNED_DATA) throw new TimestampError('the timestamp is not CMS SignedData');
  return expectTag(children(expectTag(content, ctx(0), 'SignedData content'))[0], TAG.SEQUENCE, 'SignedData');
}

export interface VerifiedTimestamp {
  time: Date;
  authority: CertificateAuthority;
}

/** Verifies one RFC 3161 timestamp over `signature` (the bundle's signature bytes). */
export function verifyTimestamp(
  der: Buffer,
  signature: Buffer,
  authorities: readonly CertificateAuthority[],
): VerifiedTimestamp {
  try {
    return verifyParsed(der, signature, authorities);
  } catch (e) {
    if (e instanceof DerError || e instanceof RangeError)
      throw new TimestampError(`the timestamp is malformed: ${e.message}`);
    if (e instanceof CertificateError) throw new TimestampError(`the timestamp's signer: ${e.message}`);
    throw e;
  }
}

function verifyParsed(der: Buffer, signature: Buffer, authorities: readonly CertificateAuthority[]): VerifiedTimestamp {
  const sd = children(signedData(der));
  // version, digestAlgorithms, encapContentInfo, [0] certificates?, [1] crls?, signerInfos
  const encap = children(expectTag(sd[2], TAG.SEQUENCE, 'encapContentInfo'));
  if (!encap[0] || oidString(encap[0]) !== OID_TST_INFO)
    throw new TimestampError('the signed content is not a TSTInfo');
  const tstDer = expectTag(children(expectTag(encap[1], ctx(0), 'eContent'))[0], TAG.OCTET_STRING, 'eContent').content;
  const certs = sd.find((n) => n.tag === ctx(0));
  const embedded = certs
    ? children(certs)
        .filter((c) => c.tag === TAG.SEQUENCE)
        .map((c) => new X509Certificate(c.bytes))
    : [];
  const signerInfos = children(expectTag(sd[sd.length - 1], TAG.SET, 'signerInfos'));
  if (signerInfos.length !== 1) throw new TimestampError('the timestamp must have exactly one signer');
  const si = children(signerInfos[0]!);
  // version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature
  const sid = si[1]!;
  const digestAlg = hashOf(si[2], HASH_OIDS);
  const attrs = expectTag(si[3], ctx(0), 'signedAttrs');
  const sigAlg = si[4]!;
  const sigValue = expectTag(si[5], TAG.OCTET_STRING, 'signature').content;
  if (!digestAlg) throw new TimestampError('unsupported digest algorithm in the timestamp');

  // TSTInfo: version, policy, messageImprint, serialNumber, genTime, …
  const tst = children(readDer(tstDer));
  const imprint = children(expectTag(tst[2], TAG.SEQUENCE, 'messageImprint'));
  const imprintHash = hashOf(imprint[0], HASH_OIDS);
  if (!imprintHash) throw new TimestampError('unsupported message imprint hash');
  const expected = createHash(imprintHash).update(signature).digest();
  const got = expectTag(imprint[1], TAG.OCTET_STRING, 'hashedMessage').content;
  if (got.length !== expected.length || !timingSafeEqual(got, expected))
    throw new TimestampError('the timestamp is not over this signature');
  const time = timeValue(expectTag(tst[4], TAG.GENERALIZED_TIME, 'genTime'));

  let messageDigest: Buffer | undefined;
  let contentType: string | undefined;
  for (const a of children(attrs)) {
    const [oid, values] = children(a);
    const first = values ? children(values)[0] : undefined;
    if (!oid || !first) continue;
    if (oidString(oid) === OID_MESSAGE_DIGEST)
      messageDigest = expectTag(first, TAG.OCTET_STRING, 'message-digest').content;
    if (oidString(oid) === OID_CONTENT_TYPE) contentType = oidString(first);
  }
  if (contentType !== OID_TST_INFO) throw new TimestampError('the signed attributes do not name a TSTInfo');
  const tstHash = createHash(digestAlg).update(tstDer).digest();
  if (!messageDigest || messageDigest.length !== tstHash.length || !timingSafeEqual(messageDigest, tstHash))
    throw new TimestampError('the signed attributes do not cover the TSTInfo');
  const signedAttrs = Buffer.from(attrs.bytes);
  signedAttrs[0] = TAG.SET;
  const sigHash = hashOf(sigAlg, SIG_HASH_OIDS) ?? digestAlg;

  const candidates = [...embedded, ...authorities.map((a) => a.chain[0]!)].filter((c) => matchesSid(c, sid));
  let reason = 'no certificate of a trusted timestamp authority signed it';
  for (const cert of candidates) {
    let ok = false;
    try {
      ok = verify(sigHash, signedAttrs, cert.publicKey, sigValue);
    } catch {
      ok = false;
    }
    if (!ok) continue;
    try {
      const authority = verifyChain(cert, authorities, [time], OID_TIME_STAMPING);
      return { time, authority };
    } catch (e) {
      if (!(e instanceof CertificateError)) throw e;
      reason = e.message;
    }
  }
  throw new TimestampError(`the timestamp does not verify: ${reason}`);
}

/** Does `cert` match the SignerIdentifier (issuerAndSerialNumber, or [0] subjectKeyIdentifier)? */
function matchesSid(cert: X509Certificate, sid: DerNode): boolean {
  if (sid.tag === TAG.SEQUENCE) {
    const [issuer, serial] = children(sid);
    if (!issuer || !serial) return false;
    const tbs = children(children(readDer(cert.raw))[0]!);
    const offset = tbs[0]?.tag === ctx(0) ? 1 : 0;
    return tbs[offset]!.bytes.equals(serial.bytes) && tbs[offset + 2]!.bytes.equals(issuer.bytes);
  }
  if (sid.tag === ctx(0, false)) {
    const ski = extensions(cert).find((e) => e.oid === '2.5.29.14');
    return ski !== undefined && readDer(ski.value).content.equals(sid.content);
  }
  return false;
}
