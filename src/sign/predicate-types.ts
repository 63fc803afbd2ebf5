/**
 * In-toto predicate types by cosign's short names (`cosign attest --type`,
 * `verify-attestation --type`; cosign `pkg/cosign/attestation` and options/predicate.go).
 * Anything else given must be a URI and is taken as is.
 */
export const PREDICATE_TYPES: Readonly<Record<string, string>> = {
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  link: 'https://in-toto.io/Link/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
  custom: 'https://cosign.sigstore.dev/attestation/v1',
};

/** What `cosign sign` (v3, bundle format) puts in its statement. */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';

export class PredicateTypeError extends Error {}

/** The predicate type URI for a short name or URI. */
export function predicateType(nameOrUri: string): string {
  const known = PREDICATE_TYPES[nameOrUri];
  if (known) return known;
  let url: URL;
  try {
    url = new URL(nameOrUri);
  } catch {
    throw new PredicateTypeError(
      `--type ${nameOrUri} is neither one of ${Object.keys(PREDICATE_TYPES).join(', ')} nor a URI`,
    );
  }
  if (!url.protocol) throw new PredicateTypeError(`--type ${nameOrUri} is not a URI`);
  return nameOrUri;
}
