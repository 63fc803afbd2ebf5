/**
 * `stowage tree REF`: the artifact and everything attached to it, recursively — Sigstore
 * bundles, cosign signatures and attestations (referrers and the `.sig`/`.att`/`.sbom`
 * tags), SBOMs, Notation signatures, signatures of attestations; with `--children`, an
 * index's platform manifests too — drawn as `cosign tree` / `oras discover` draw it.
 */
import type { Command } from 'commander';
import { attachedTree, formatReference, manifestRef, parseReference, type AttachedNode } from '../client/index.js';
import { addClientOptions, clientAction } from './client-common.js';

const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';

/** What a manifest is, by the artifact types the signing tools use. */
const KINDS: [RegExp, string][] = [
  [/^application\/vnd\.dev\.sigstore\.bundle/, 'Sigstore bundle'],
  [/^application\/vnd\.dev\.cosign\.artifact\.sig/, 'cosign signature'],
  [/^application\/vnd\.dev\.cosign\.simplesigning/, 'cosign signature'],
  [/^application\/vnd\.in-toto\+json$/, 'in-toto attestation'],
  [/^application\/vnd\.dsse\.envelope/, 'in-toto attestation'],
  [/^application\/vnd\.cncf\.notary\.signature$/, 'Notation signature'],
  [/spdx|cyclonedx|syft/i, 'SBOM'],
];

function kind(n: AttachedNode): string {
  if (n.relation === 'cosign-tag') {
    const count = n.layers?.length ?? 0;
    const what = n.tag!.endsWith('.sig') ? 'signature' : n.tag!.endsWith('.att') ? 'attestation' : 'SBOM';
    const types = [...new Set((n.layers ?? []).map((l) => l.predicateType).filter(Boolean))];
    return `cosign ${what}s (${count}${types.length ? `: ${types.join(', ')}` : ''})`;
  }
  const type = n.artifactType ?? n.descriptor.artifactType ?? '';
  const name = KINDS.find(([re]) => re.test(type))?.[1];
  const predicate = n.annotations?.[PREDICATE_ANNOTATION];
  if (name === 'Sigstore bundle' && predicate)
    return predicate === COSIGN_SIGN_PREDICATE
      ? 'signature (Sigstore bundle)'
      : `attestation ${predicate} (Sigstore bundle)`;
  return name ? `${name} (${type})` : type || n.descriptor.mediaType;
}

function label(n: AttachedNode): string {
  const d = n.descriptor.digest;
  switch (n.relation) {
    case 'root':
      return '';
    case 'referrer':
      return `${kind(n)}  ${d}${n.via === 'tag-schema' ? '  (referrers tag)' : ''}`;
    case 'cosign-tag':
      return `${kind(n)}  ${n.tag} → ${d}`;
    case 'child':
      return `${n.platform ?? 'manifest'}  ${d}`;
  }
}

/** The tree as lines, drawn with box characters. */
export function drawTree(root: AttachedNode, title: string): string[] {
  const out = [`${title}${root.artifactType ? `  (${root.artifactType})` : ''}`];
  const walk = (n: AttachedNode, prefix: string) => {
    n.attached.forEach((c, i) => {
      const last = i === n.attached.length - 1;
      out.push(`${prefix}${last ? '└── ' : '├── '}${label(c)}`);
      walk(c, `${prefix}${last ? '    ' : '│   '}`);
    });
  };
  walk(root, '');
  if (root.attached.length === 0) out.push('(nothing refers to it)');
  return out;
}

export function registerTree(program: Command): void {
  addClientOptions(
    program
      .command('tree')
      .description(
        "Show an artifact and everything attached to it, recursively: signatures, attestations and SBOMs (OCI referrers, through the referrers API or the referrers tag, and cosign's .sig/.att/.sbom tags), and what is attached to those.",
      )
      .argument('<ref>', 'host[:port]/repository[:tag][@digest]')
      .option('--children', 'for an index: also its platform manifests and what is attached to each'),
  ).action(
    clientAction(async (ctx, [refArg], opts) => {
      const ref = parseReference(refArg!);
      const repo = ctx.client().repository(ref);
      const root = await repo.resolve(manifestRef(ref));
      const tree = await attachedTree(repo, root, { children: opts.children === true });
      const reference = formatReference({ ...ref, digest: root.digest });
      return { text: drawTree(tree, reference), json: { reference, ...tree } };
    }),
  );
}
