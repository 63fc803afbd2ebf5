/**
 * Directory trees for the tarball fidelity tests, materialised identically by the
 * tests and by fixtures/make-golden.mjs (which archives them with Go's archive/tar
 * and compress/gzip, fixtures/fluxbuild.go, to record the digests in golden.json).
 */
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface TreeNode {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'fifo';
  mode?: number;
  content?: string | { bytes: number; seed: number; text?: boolean };
  target?: string;
}

export interface TreeSpec {
  name: string;
  rootMode: number;
  nodes: TreeNode[];
  /** Paths flux's default --ignore-paths exclude (what the Go builder is told to skip). */
  defaultExcluded: string[];
}

/** Deterministic pseudo-random bytes (text-like when asked, so deflate finds matches). */
export function fixtureBytes(n: number, seed: number, text = false): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  const words = [
    'apiVersion: v1\n',
    'kind: ConfigMap\n',
    'metadata:\n',
    '  name: app-',
    'data:\n',
    '  key: value-',
    '\n---\n',
    '  replicas: ',
    'spec:\n',
  ];
  let i = 0;
  while (i < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    if (text) {
      const w = Buffer.from(words[(x >>> 16) % words.length]! + String((x >>> 8) % 97));
      w.copy(b, i, 0, Math.min(w.length, n - i));
      i += w.length;
    } else b[i++] = x >>> 16;
  }
  return b;
}

const yaml = (kind: string, name: string) => `apiVersion: v1\nkind: ${kind}\nmetadata:\n  name: ${name}\n`;

export const TREES: TreeSpec[] = [
  {
    name: 'kustomize',
    rootMode: 0o755,
    nodes: [
      { path: 'deploy', type: 'dir', mode: 0o755 },
      { path: 'deploy/base', type: 'dir', mode: 0o755 },
      {
        path: 'deploy/base/kustomization.yaml',
        type: 'file',
        mode: 0o644,
        content: 'resources:\n  - deployment.yaml\n  - service.yaml\n',
      },
      { path: 'deploy/base/deployment.yaml', type: 'file', mode: 0o644, content: yaml('Deployment', 'app') },
      { path: 'deploy/base/service.yaml', type: 'file', mode: 0o644, content: yaml('Service', 'app') },
      { path: 'deploy/overlays', type: 'dir', mode: 0o755 },
      { path: 'deploy/overlays/prod', type: 'dir', mode: 0o750 },
      {
        path: 'deploy/overlays/prod/kustomization.yaml',
        type: 'file',
        mode: 0o644,
        content: 'resources:\n  - ../../base\npatches:\n  - path: patch.yaml\n',
      },
      {
        path: 'deploy/overlays/prod/patch.yaml',
        type: 'file',
        mode: 0o600,
        content: { bytes: 3000, seed: 7, text: true },
      },
      { path: 'README.md', type: 'file', mode: 0o644, content: '# app <config> & overlays\n' },
      { path: 'scripts', type: 'dir', mode: 0o755 },
      {
        path: 'scripts/render.sh',
        type: 'file',
        mode: 0o755,
        content: '#!/bin/sh\nkustomize build deploy/overlays/prod\n',
      },
      { path: '.gitignore', type: 'file', mode: 0o644, content: '*.tmp\n' },
      { path: '.git', type: 'dir', mode: 0o755 },
      { path: '.git/HEAD', type: 'file', mode: 0o644, content: 'ref: refs/heads/main\n' },
      { path: 'docs', type: 'dir', mode: 0o755 },
      { path: 'docs/logo.png', type: 'file', mode: 0o644, content: { bytes: 700, seed: 3 } },
      { path: 'docs/index.md', type: 'file', mode: 0o644, content: 'docs\n' },
      { path: 'current', type: 'symlink', target: 'deploy/overlays/prod' },
    ],
    defaultExcluded: ['.git', '.git/HEAD', '.gitignore', 'docs/logo.png'],
  },
  {
    name: 'edge',
    rootMode: 0o700,
    nodes: [
      { path: 'empty.yaml', type: 'file', mode: 0o644, content: '' },
      { path: 'block.bin', type: 'file', mode: 0o644, content: { bytes: 512, seed: 11 } },
      { path: 'big.yaml', type: 'file', mode: 0o644, content: { bytes: 200_000, seed: 5, text: true } },
      { path: 'random.bin', type: 'file', mode: 0o640, content: { bytes: 70_000, seed: 9 } },
      { path: 'sticky', type: 'dir', mode: 0o1777 },
      { path: 'setgid', type: 'dir', mode: 0o2755 },
      { path: 'setgid/tool', type: 'file', mode: 0o4755, content: 'x' },
      { path: `${'d'.repeat(70)}`, type: 'dir', mode: 0o755 },
      { path: `${'d'.repeat(70)}/${'f'.repeat(60)}.yaml`, type: 'file', mode: 0o644, content: 'long but splittable\n' },
      { path: `${'n'.repeat(120)}.yaml`, type: 'file', mode: 0o644, content: 'one long component: PAX\n' },
      { path: 'café', type: 'dir', mode: 0o755 },
      { path: 'café/naïve.yaml', type: 'file', mode: 0o644, content: 'non-ASCII names: PAX\n' },
      { path: 'B.yaml', type: 'file', mode: 0o644, content: 'byte order: B before a\n' },
      { path: 'a.yaml', type: 'file', mode: 0o644, content: 'a\n' },
      { path: 'a-b.yaml', type: 'file', mode: 0o644, content: '- sorts before .\n' },
      { path: 'pipe', type: 'fifo' },
      { path: 'link.yaml', type: 'symlink', target: 'a.yaml' },
    ],
    defaultExcluded: [],
  },
];

/** Creates `spec` under `root` (which must not exist yet) with exact modes. */
export async function materialize(spec: TreeSpec, root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const n of spec.nodes) {
    const p = path.join(root, n.path);
    if (n.type === 'dir') await mkdir(p);
    else if (n.type === 'symlink') await symlink(n.target!, p);
    else if (n.type === 'fifo') execFileSync('mkfifo', [p]);
    else {
      const c = n.content ?? '';
      await writeFile(p, typeof c === 'string' ? c : fixtureBytes(c.bytes, c.seed, c.text));
    }
  }
  for (const n of [...spec.nodes].reverse()) if (n.mode !== undefined) await chmod(path.join(root, n.path), n.mode);
  await chmod(root, spec.rootMode);
}

/** Inputs whose Go gzip output golden.json records (test/gocompat/gzip.test.ts). */
export const GZIP_INPUTS: Record<string, () => Buffer> = {
  empty: () => Buffer.alloc(0),
  hello: () => Buffer.from('hello'),
  zeros: () => Buffer.alloc(100_000),
  'random-300': () => fixtureBytes(300, 2),
  'random-70000': () => fixtureBytes(70_000, 3),
  'text-5000': () => fixtureBytes(5000, 4, true),
  'text-300000': () => fixtureBytes(300_000, 6, true),
  mixed: () =>
    Buffer.concat([
      fixtureBytes(40_000, 8, true),
      fixtureBytes(20_000, 9),
      Buffer.alloc(10_000, 0x61),
      fixtureBytes(90_000, 10, true),
    ]),
};
