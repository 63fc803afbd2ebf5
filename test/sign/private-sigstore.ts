/**
 * A private Sigstore instance for tests, offline: a Fulcio-like CA issuing short-lived
 * code-signing certificates (SAN + OIDC issuer extension 1.3.6.1.4.1.57264.1.8, an
 * embedded SCT from its CT log), a Rekor-like log key signing entry timestamps, and the
 * `trusted_root.json` that trusts them — so keyless cosign v2 layers (`.sig`, `.att`)
 * are made in cosign's byte formats with identities the tests choose.
 *
 *   const ca = privateSigstore();
 *   const signer = ca.issue({ email: 'dev@example.com', issuer: 'https://issuer.example' });
 *   const layer = ca.signatureLayer(signer, payload);           // annotations as cosign writes them
 *   await writeFile('trusted_root.json', ca.trustedRoot());
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { TAG, children, ctx, encodeTlv, readDer } from '../../src/sign/der.js';
import { pae } from '../../src/sign/index.js';
import { DSSE_MEDIA_TYPE, IN_TOTO, type LegacyLayer } from './legacy-layers.js';

const seq = (...parts: Buffer[]) => encodeTlv(TAG.SEQUENCE, Buffer.concat(parts));
const set = (...parts: Buffer[]) => encodeTlv(TAG.SET, Buffer.concat(parts));
const oid = (text: string): Buffer => {
  const [a, b, ...rest] = text.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const bytes = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return encodeTlv(TAG.OID, Buffer.from(out));
};
const utf8 = (s: string) => encodeTlv(TAG.UTF8_STRING, Buffer.from(s));
const int = (b: Buffer) => encodeTlv(TAG.INTEGER, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
const time = (d: Date) =>
  encodeTlv(TAG.UTC_TIME, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`));
const name = (cn: string) => seq(set(seq(oid('2.5.4.10'), utf8('stowage-test'))), set(seq(oid('2.5.4.3'), utf8(cn))));
const ext = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [encodeTlv(TAG.BOOLEAN, Buffer.from([0xff]))] : []), encodeTlv(TAG.OCTET_STRING, value));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
const pem = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END ${label}-----\n`;

function certificate(tbs: Buffer, signer: KeyObject): Buffer {
  const sig = sign('sha256', tbs, { key: signer, dsaEncoding: 'der' });
  return seq(tbs, ECDSA_SHA256, encodeTlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), sig])));
}

function tbsCertificate(p: {
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  key: KeyObject;
  extensions: Buffer[];
}): Buffer {
  return seq(
    encodeTlv(ctx(0), int(Buffer.from([2]))),
    int(randomBytes(16)),
    ECDSA_SHA256,
    p.issuer,
    seq(time(p.notBefore), time(p.notAfter)),
    p.subject,
    spki(p.key),
    encodeTlv(ctx(3), seq(...p.extensions)),
  );
}

export interface Signer {
  /** The leaf certificate, PEM. */
  certificate: string;
  der: Buffer;
  key: KeyObject;
  notBefore: Date;
}

export interface PrivateSigstore {
  /** A certificate for this identity, valid 10 minutes from `at` (default: now − 1 min). */
  issue(p: { email?: string; uri?: string; issuer: string; at?: Date }): Signer;
  /** A `.sig` layer: `payload` signed by `signer`, certificate, chain and Rekor bundle annotations. */
  signatureLayer(signer: Signer, payload: Buffer, opts?: { integratedTime?: Date }): LegacyLayer;
  /** An `.att` layer: a DSSE envelope of `statement` signed by `signer`, as cosign attest (v2) writes it. */
  attestationLayer(signer: Signer, statement: Buffer, predicateType: string): LegacyLayer;
  /** trusted_root.json for this instance. */
  trustedRoot(): string;
  rootPem: string;
}

export function privateSigstore(): PrivateSigstore {
  const ec = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const root = ec();
  const ct = ec();
  const rekor = ec();
  const start = new Date(Date.now() - 3600_000);
  const rootName = name('stowage-test-fulcio');
  const rootDer = certificate(
    tbsCertificate({
      issuer: rootName,
      subject: rootName,
      notBefore: start,
      notAfter: new Date(Date.now() + 10 * 365 * 86400_000),
      key: root.publicKey,
      extensions: [
        ext('2.5.29.15', true, encodeTlv(TAG.BIT_STRING, Buffer.from([1, 0x06]))), // keyCertSign, cRLSign
        ext('2.5.29.19', true, seq(encodeTlv(TAG.BOOLEAN, Buffer.from([0xff])))),
      ],
    }),
    root.privateKey,
  );
  const logId = (k: KeyObject) => createHash('sha256').update(spki(k)).digest();
  const ctLogId = logId(ct.publicKey);
  const rekorLogId = logId(rekor.publicKey);
  let logIndex = 1000;

  function sct(preTbs: Buffer, at: Date): Buffer {
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(at.getTime()));
    const issuerKeyHash = createHash('sha256').update(spki(root.publicKey)).digest();
    const len3 = Buffer.from([(preTbs.length >> 16) & 0xff, (preTbs.length >> 8) & 0xff, preTbs.length & 0xff]);
    const signed = Buffer.concat([
      Buffer.from([0, 0]),
      ts,
      Buffer.from([0, 1]),
      issuerKeyHash,
      len3,
      preTbs,
      Buffer.from([0, 0]),
    ]);
    const sig = sign('sha256', signed, { key: ct.privateKey, dsaEncoding: 'der' });
    const sigLen = Buffer.alloc(2);
    sigLen.writeUInt16BE(sig.length);
    const one = Buffer.concat([Buffer.from([0]), ctLogId, ts, Buffer.from([0, 0]), Buffer.from([4, 3]), sigLen, sig]);
    const list = Buffer.alloc(4);
    list.writeUInt16BE(one.length + 2, 0);
    list.writeUInt16BE(one.length, 2);
    return encodeTlv(TAG.OCTET_STRING, Buffer.concat([list, one]));
  }

  function issue(p: { email?: string; uri?: string; issuer: string; at?: Date }): Signer {
    const key = ec();
    const notBefore = p.at ?? new Date(Date.now() - 60_000);
    const san = p.email
      ? encodeTlv(ctx(1, false), Buffer.from(p.email))
      : encodeTlv(ctx(6, false), Buffer.from(p.uri ?? 'https://example.com/workflow'));
    const extensions = [
      ext('2.5.29.15', true, encodeTlv(TAG.BIT_STRING, Buffer.from([7, 0x80]))), // digitalSignature
      ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.3'))), // code signing
      ext('2.5.29.17', true, seq(san)),
      ext('1.3.6.1.4.1.57264.1.8', false, utf8(p.issuer)),
    ];
    const fields = {
      issuer: rootName,
      subject: seq(),
      notBefore,
      notAfter: new Date(notBefore.getTime() + 10 * 60_000),
      key: key.publicKey,
    };
    // The SCT signs the certificate without its SCT list; both carry the same serial.
    const pre = tbsCertificate({ ...fields, extensions });
    const fieldsOf = children(readDer(pre)).map((n) => n.bytes);
    const withSct = seq(
      ...fieldsOf.slice(0, -1),
      encodeTlv(ctx(3), seq(...extensions, ext('1.3.6.1.4.1.11129.2.4.2', false, sct(pre, notBefore)))),
    );
    const der = certificate(withSct, root.privateKey);
    return { certificate: pem('CERTIFICATE', der), der, key: key.privateKey, notBefore };
  }

  function rekorBundle(body: unknown, integrated: Date): string {
    const b64 = Buffer.from(JSON.stringify(body)).toString('base64');
    const integratedTime = Math.floor(integrated.getTime() / 1000);
    const index = logIndex++;
    const canonical = `{"body":${JSON.stringify(b64)},"integratedTime":${integratedTime},"logID":"${rekorLogId.toString('hex')}","logIndex":${index}}`;
    const setSig = sign('sha256', Buffer.from(canonical), { key: rekor.privateKey, dsaEncoding: 'der' });
    return JSON.stringify({
      SignedEntryTimestamp: setSig.toString('base64'),
      Payload: { body: b64, integratedTime, logIndex: index, logID: rekorLogId.toString('hex') },
    });
  }

  const keyless = (signer: Signer, bundle: string) => ({
    'dev.sigstore.cosign/certificate': signer.certificate,
    'dev.sigstore.cosign/chain': pem('CERTIFICATE', rootDer),
    'dev.sigstore.cosign/bundle': bundle,
  });

  return {
    issue,
    rootPem: pem('CERTIFICATE', rootDer),
    signatureLayer(signer, payload, opts = {}) {
      const sig = sign('sha256', payload, { key: signer.key, dsaEncoding: 'der' }).toString('base64');
      const body = {
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } },
          signature: { content: sig, publicKey: { content: Buffer.from(signer.certificate).toString('base64') } },
        },
      };
      const at = opts.integratedTime ?? new Date(signer.notBefore.getTime() + 30_000);
      return {
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        blob: payload,
        annotations: { 'dev.cosignproject.cosign/signature': sig, ...keyless(signer, rekorBundle(body, at)) },
      };
    },
    attestationLayer(signer, statement, predicateType) {
      const sig = sign('sha256', pae(IN_TOTO, statement), { key: signer.key, dsaEncoding: 'der' }).toString('base64');
      const env = Buffer.from(
        JSON.stringify({
          payloadType: IN_TOTO,
          payload: statement.toString('base64'),
          signatures: [{ keyid: '', sig }],
        }),
      );
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      const body = {
        apiVersion: '0.0.2',
        kind: 'intoto',
        spec: {
          content: {
            envelope: {
              payloadType: IN_TOTO,
              signatures: [
                {
                  publicKey: Buffer.from(signer.certificate).toString('base64'),
                  sig: Buffer.from(sig).toString('base64'),
                },
              ],
            },
            hash: { algorithm: 'sha256', value: sha(env) },
            payloadHash: { algorithm: 'sha256', value: sha(statement) },
          },
        },
      };
      return {
        mediaType: DSSE_MEDIA_TYPE,
        blob: env,
        annotations: {
          predicateType,
          'dev.cosignproject.cosign/signature': '',
          ...keyless(signer, rekorBundle(body, new Date(signer.notBefore.getTime() + 30_000))),
        },
      };
    },
    trustedRoot() {
      const log = (baseUrl: string, k: KeyObject, id: Buffer) => ({
        baseUrl,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: spki(k).toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: start.toISOString() },
        },
        logId: { keyId: id.toString('base64') },
      });
      return JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        tlogs: [log('https://rekor.test', rekor.publicKey, rekorLogId)],
        certificateAuthorities: [
          {
            subject: { organization: 'stowage-test', commonName: 'stowage-test-fulcio' },
            uri: 'https://fulcio.test',
            certChain: { certificates: [{ rawBytes: rootDer.toString('base64') }] },
            validFor: { start: start.toISOString() },
          },
        ],
        ctlogs: [log('https://ctfe.test', ct.publicKey, ctLogId)],
      });
    },
  };
}
