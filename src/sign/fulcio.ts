/**
 * Fulcio certificates (pure): the chain to a CA of the trusted root, the identity a
 * certificate carries, and its embedded SCTs (RFC 6962 §3.2) checked against the CT
 * logs of the trusted root.
 *
 * Identity as cosign reads it: the subject alternative name (URI, email, or sigstore's
 * OtherName `1.3.6.1.4.1.57264.1.7`, or DNS) and the OIDC issuer from Fulcio's
 * extension `1.3.6.1.4.1.57264.1.8` (a DER UTF8String) or, on older certificates,
 * `1.3.6.1.4.1.57264.1.1` (the raw string).
 */
import { type X509Certificate, createHash, verify } from 'node:crypto';
import { DerError, TAG, children, ctx, encodeTlv, expectTag, oidString, readDer, type DerNode } from './der.js';
import { inRange, type CertificateAuthority, type LogAuthority } from './trusted-root.js';

export class CertificateError extends Error {}

const OID_SAN = '2.5.29.17';
const OID_EKU = '2.5.29.37';
const OID_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';
const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const OID_OTHERNAME_SAN = '1.3.6.1.4.1.57264.1.7';
const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
export const OID_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

export interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
  /** The whole Extension SEQUENCE. */
  node: DerNode;
}

/** TBSCertificate's extensions ([3] EXPLICIT SEQUENCE OF Extension). */
export function extensions(cert: X509Certificate): Extension[] {
  const tbs = children(readDer(cert.raw))[0]!;
  const ext = children(tbs).find((n) => n.tag === ctx(3));
  if (!ext) return [];
  return children(expectTag(children(ext)[0], TAG.SEQUENCE, 'extensions')).map((e) => {
    const parts = children(e);
    const critical = parts[1]?.tag === TAG.BOOLEAN && parts[1].content[0] !== 0;
    const value = expectTag(
      parts[critical || parts[1]?.tag === TAG.BOOLEAN ? 2 : 1],
      TAG.OCTET_STRING,
      'extension value',
    ).content;
    return { oid: oidString(parts[0]!), critical, value, node: e };
  });
}

export interface CertificateIdentity {
  /** The SAN cosign matches `--certificate-identity` against. */
  san: string;
  /** The OIDC issuer, or '' when the certificate names none. */
  issuer: string;
}

export function certificateIdentity(cert: X509Certificate): CertificateIdentity {
  let san = '';
  let issuer = '';
  let issuerV1 = '';
  for (const e of extensions(cert)) {
    if (e.oid === OID_SAN) {
      for (const name of children(readDer(e.value))) {
        let value = '';
        if (name.tag === ctx(1, false) || name.tag === ctx(2, false) || name.tag === ctx(6, false))
          value = name.content.toString('utf8');
        else if (name.tag === ctx(0)) {
          const [oid, inner] = children(name);
          if (oid && oidString(oid) === OID_OTHERNAME_SAN && inner)
            value = children(inner)[0]?.content.toString('utf8') ?? '';
        }
        // cosign's precedence: URI, email, OtherName — the first non-empty one found here.
        if (value && !san) san = value;
      }
    } else if (e.oid === OID_ISSUER_V2) {
      issuer = readDer(e.value).content.toString('utf8');
    } else if (e.oid === OID_ISSUER_V1) {
      issuerV1 = e.value.toString('utf8');
    }
  }
  return { san, issuer: issuer || issuerV1 };
}

/** Is every certificate valid at `t`? */
const validAt = (c: X509Certificate, t: Date): boolean => t >= new Date(c.validFrom) && t <= new Date(c.validTo);

/** Does `child` carry `issuer`'s name and signature? */
const issuedBy = (child: X509Certificate, issuer: X509Certificate): boolean =>
  child.checkIssued(issuer) && child.verify(issuer.publicKey);

/**
 * The CA (of `cas`) whose chain issued `leaf` and whose chain and validity cover every
 * one of `times`; throws CertificateError otherwise. `usage` is the extended key usage
 * the leaf must allow.
 */
export function verifyChain(
  leaf: X509Certificate,
  cas: readonly CertificateAuthority[],
  times: readonly Date[],
  usage = OID_CODE_SIGNING,
): CertificateAuthority {
  if (leaf.ca) throw new CertificateError('the signing certificate is a CA certificate');
  const eku = extensions(leaf).find((e) => e.oid === OID_EKU);
  if (eku && !children(readDer(eku.value)).some((n) => oidString(n) === usage))
    throw new CertificateError(`the certificate does not allow the key usage ${usage}`);
  if (times.length === 0) throw new CertificateError('no verified time to check the certificate against');
  let reason = 'it was not issued by a certificate authority of the trusted root';
  for (const ca of cas) {
    const path = [leaf, ...ca.chain.filter((c) => !c.raw.equals(leaf.raw))];
    if (!path.slice(1).every((c) => c.ca)) continue;
    if (!path.every((c, i) => (i === path.length - 1 ? issuedBy(c, c) : issuedBy(c, path[i + 1]!)))) continue;
    const bad = times.find((t) => !inRange(ca.validFor, t) || !path.every((c) => validAt(c, t)));
    if (bad) {
      reason = `it (or its chain) was not valid at ${bad.toISOString()}`;
      continue;
    }
    return ca;
  }
  throw new CertificateError(`the certificate does not verify: ${reason}`);
}

/** The TBSCertificate with the SCT list extension removed: what a precertificate SCT signs. */
function precertTbs(cert: X509Certificate): Buffer {
  const tbs = children(readDer(cert.raw))[0]!;
  const parts = children(tbs).map((p) => {
    if (p.tag !== ctx(3)) return p.bytes;
    const list = children(children(p)[0]!).filter((e) => oidString(children(e)[0]!) !== OID_SCT_LIST);
    return encodeTlv(ctx(3), encodeTlv(TAG.SEQUENCE, Buffer.concat(list.map((e) => e.bytes))));
  });
  return encodeTlv(TAG.SEQUENCE, Buffer.concat(parts));
}

interface Sct {
  logId: Buffer;
  timestamp: bigint;
  extensions: Buffer;
  hashAlg: number;
  signature: Buffer;
}

function parseScts(value: Buffer): Sct[] {
  const list = expectTag(readDer(value), TAG.OCTET_STRING, 'SCT list').content;
  if (list.length < 2 || list.readUInt16BE(0) !== list.length - 2) throw new CertificateError('malformed SCT list');
  const out: Sct[] = [];
  for (let off = 2; off < list.length;) {
    const len = list.readUInt16BE(off);
    const s = list.subarray(off + 2, off + 2 + len);
    off += 2 + len;
    if (s.length !== len || s.length < 47 || s[0] !== 0) throw new CertificateError('malformed SCT');
    const extLen = s.readUInt16BE(41);
    const p = 43 + extLen;
    if (s.length < p + 4) throw new CertificateError('malformed SCT');
    const sigLen = s.readUInt16BE(p + 2);
    if (s.length !== p + 4 + sigLen) throw new CertificateError('malformed SCT');
    out.push({
      logId: s.subarray(1, 33),
      timestamp: s.readBigUInt64BE(33),
      extensions: s.subarray(43, p),
      hashAlg: s[p]!,
      signature: s.subarray(p + 4),
    });
  }
  return out;
}

const HASHES: Record<number, string> = { 4: 'sha256', 5: 'sha384', 6: 'sha512' };

/** How many embedded SCTs verify with a CT log of the trusted root. */
export function verifiedScts(leaf: X509Certificate, issuer: X509Certificate, ctlogs: readonly LogAuthority[]): number {
  const ext = extensions(leaf).find((e) => e.oid === OID_SCT_LIST);
  if (!ext) return 0;
  let scts: Sct[];
  let tbs: Buffer;
  try {
    scts = parseScts(ext.value);
    tbs = precertTbs(leaf);
  } catch (e) {
    if (e instanceof DerError || e instanceof RangeError)
      throw new CertificateError("the certificate's SCT list is malformed");
    throw e;
  }
  const issuerKeyHash = createHash('sha256')
    .update(issuer.publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
  let count = 0;
  for (const sct of scts) {
    const log = ctlogs.find((l) => l.logId.equals(sct.logId));
    const hash = HASHES[sct.hashAlg];
    if (!log || !hash || !inRange(log.validFor, new Date(Number(sct.timestamp)))) continue;
    const head = Buffer.alloc(12);
    head[0] = 0; // v1
    head[1] = 0; // certificate_timestamp
    head.writeBigUInt64BE(sct.timestamp, 2);
    head.writeUInt16BE(1, 10); // precert_entry
    const tbsLen = Buffer.from([(tbs.length >> 16) & 0xff, (tbs.length >> 8) & 0xff, tbs.length & 0xff]);
    const extLen = Buffer.alloc(2);
    extLen.writeUInt16BE(sct.extensions.length);
    const signed = Buffer.concat([head, issuerKeyHash, tbsLen, tbs, extLen, sct.extensions]);
    try {
      if (verify(hash, signed, log.key, sct.signature)) count++;
    } catch {
      /* a malformed signature verifies nothing */
    }
  }
  return count;
}
