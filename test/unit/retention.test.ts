/** Retention planning (pure): every rule, "kept if any keep rule keeps it", signatures follow subjects. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planRepository, tagSchemeSubject, type RetentionPolicy } from '../../src/lifecycle/retention.js';
import type { RepositoryInventory } from '../../src/storage/metadata-store.js';

const DAY = 86_400_000;
const NOW = 100 * DAY;
const clock = { now: NOW, gracePeriodMs: 3_600_000 };
const d = (n: number | string) => `sha256:${String(n).padStart(64, '0')}`;
type M = RepositoryInventory['manifests'][number];

function inv(tags: [string, number | string, number?][], manifests: Partial<M>[] = []): RepositoryInventory {
  const ms = new Map<string, M>();
  for (const m of manifests)
    ms.set(m.digest!, {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      createdAt: NOW - 50 * DAY,
      references: [],
      ...m,
    } as M);
  for (const [, digest] of tags)
    if (!ms.has(d(digest)))
      ms.set(d(digest), {
        digest: d(digest),
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        createdAt: NOW - 50 * DAY,
        references: [],
      });
  return {
    tags: tags.map(([name, digest, pushedDaysAgo]) => ({
      name,
      digest: d(digest),
      pushedAt: NOW - (pushedDaysAgo ?? 50) * DAY,
    })),
    manifests: [...ms.values()],
  };
}

const policy = (keep: RetentionPolicy['keep'], extra: Partial<RetentionPolicy> = {}): RetentionPolicy[] => [
  { repositories: 'team/**', keep, ...extra },
];
const kept = (plan: ReturnType<typeof planRepository>) =>
  plan.decisions
    .filter((x) => x.keep)
    .map((x) => x.tag)
    .sort();
const ruleOf = (plan: ReturnType<typeof planRepository>, tag: string) =>
  plan.decisions.find((x) => x.tag === tag)?.rule;

describe('retention rules', () => {
  it('latest: N most recently pushed', () => {
    const plan = planRepository(
      'team/app',
      inv([
        ['a', 1, 5],
        ['b', 2, 1],
        ['c', 3, 3],
        ['d', 4, 9],
      ]),
      policy([{ kind: 'latest', count: 2 }]),
      clock,
    );
    assert.deepEqual(kept(plan), ['b', 'c']);
    assert.equal(ruleOf(plan, 'b'), 'latest: 2');
    assert.equal(ruleOf(plan, 'a'), 'no keep rule matched');
    assert.deepEqual(plan.dropTags.map((x) => x.tag).sort(), ['a', 'd']);
    assert.deepEqual(plan.deleteManifests.map((m) => m.digest).sort(), [d(1), d(4)]);
    assert.ok(plan.deleteManifests.every((m) => m.reason === 'all its tags were dropped'));
  });

  it('semver: N highest versions (non-versions never count), and a semver range', () => {
    const tags: [string, number][] = [
      ['v1.2.0', 1],
      ['v1.10.0', 2],
      ['v2.0.0-rc.1', 3],
      ['1.9.9', 4],
      ['latest', 5],
      ['v0.1.0', 6],
    ];
    const top = planRepository('team/app', inv(tags), policy([{ kind: 'semver', count: 2 }]), clock);
    assert.deepEqual(kept(top), ['v1.10.0', 'v2.0.0-rc.1']);
    const range = planRepository(
      'team/app',
      inv(tags),
      policy([{ kind: 'semver_range', range: '>=1.2.0, <2.0.0' }]),
      clock,
    );
    assert.deepEqual(kept(range), ['1.9.9', 'v1.10.0', 'v1.2.0']);
    assert.equal(ruleOf(range, 'v1.2.0'), 'semver_range: >=1.2.0, <2.0.0');
  });

  it('matching / not_matching a regex', () => {
    const tags: [string, number][] = [
      ['main', 1],
      ['stable', 2],
      ['pr-12', 3],
      ['feature-x', 4],
    ];
    assert.deepEqual(
      kept(planRepository('team/app', inv(tags), policy([{ kind: 'matching', pattern: '^(main|stable)$' }]), clock)),
      ['main', 'stable'],
    );
    assert.deepEqual(
      kept(planRepository('team/app', inv(tags), policy([{ kind: 'not_matching', pattern: '^pr-' }]), clock)),
      ['feature-x', 'main', 'stable'],
    );
  });

  it('pushed_within and pulled_within D', () => {
    const tags: [string, number, number][] = [
      ['old', 1, 40],
      ['new', 2, 3],
      ['pulled', 3, 40],
    ];
    const manifests = [
      { digest: d(3), pulledAt: NOW - 2 * DAY },
      { digest: d(1), pulledAt: NOW - 20 * DAY },
    ];
    assert.deepEqual(
      kept(planRepository('team/app', inv(tags, manifests), policy([{ kind: 'pushed_within', ms: 7 * DAY }]), clock)),
      ['new'],
    );
    const pulled = planRepository(
      'team/app',
      inv(tags, manifests),
      policy([{ kind: 'pulled_within', ms: 7 * DAY }]),
      clock,
    );
    assert.deepEqual(kept(pulled), ['pulled']);
    assert.equal(ruleOf(pulled, 'pulled'), 'pulled_within: 7d');
  });

  it('kept if any keep rule keeps it; the first that does is named', () => {
    const plan = planRepository(
      'team/app',
      inv([
        ['v1.0.0', 1, 30],
        ['main', 2, 30],
        ['x', 3, 1],
      ]),
      policy([
        { kind: 'matching', pattern: '^main$' },
        { kind: 'semver', count: 1 },
        { kind: 'latest', count: 1 },
      ]),
      clock,
    );
    assert.deepEqual(kept(plan), ['main', 'v1.0.0', 'x']);
    assert.deepEqual(
      plan.decisions.map((x) => [x.tag, x.rule]),
      [
        ['main', 'matching: ^main$'],
        ['v1.0.0', 'semver: 1'],
        ['x', 'latest: 1'],
      ],
    );
  });

  it('a repository no policy matches keeps every tag and every untagged manifest, with no decisions listed', () => {
    const plan = planRepository(
      'other/app',
      inv([['a', 1]], [{ digest: d(9) }]),
      policy([{ kind: 'latest', count: 0 }]),
      clock,
    );
    assert.deepEqual(plan, { decisions: [], dropTags: [], deleteManifests: [] });
  });

  it('a policy with no keep rules keeps every tag', () => {
    const plan = planRepository(
      'team/app',
      inv([
        ['a', 1],
        ['b', 2],
      ]),
      policy([]),
      clock,
    );
    assert.deepEqual(kept(plan), ['a', 'b']);
  });

  it('untagged_older_than D removes old untagged manifests only, never an index child', () => {
    const manifests = [
      { digest: d(10), createdAt: NOW - 30 * DAY },
      { digest: d(11), createdAt: NOW - 1 * DAY },
      { digest: d(12), createdAt: NOW - 30 * DAY },
      {
        digest: d(13),
        mediaType: 'application/vnd.oci.image.index.v1+json',
        createdAt: NOW - 30 * DAY,
        references: [d(12)],
      },
    ];
    const plan = planRepository(
      'team/app',
      inv([['multi', 13]], manifests),
      policy([], { untaggedOlderThanMs: 7 * DAY }),
      clock,
    );
    assert.deepEqual(
      plan.deleteManifests.map((m) => [m.digest, m.reason]),
      [[d(10), 'untagged']],
    );
    const none = planRepository('team/app', inv([['multi', 13]], manifests), policy([]), clock);
    assert.deepEqual(none.deleteManifests, [], 'no untagged rule: untagged manifests stay');
  });

  it('always keeps what is signed (referrer or cosign tag), and what a kept index references', () => {
    const manifests = [
      { digest: d(20), subject: d(1), artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' },
      { digest: d(30), mediaType: 'application/vnd.oci.image.index.v1+json', references: [d(3)] },
    ];
    const tags: [string, number | string, number?][] = [
      ['signed', 1, 40],
      ['cosigned', 2, 40],
      [`sha256-${'2'.padStart(64, '0')}.sig`, 21, 40],
      ['child', 3, 40],
      ['multi', 30, 1],
      ['plain', 4, 40],
    ];
    const plan = planRepository(
      'team/app',
      inv(tags, manifests),
      policy([{ kind: 'pushed_within', ms: 7 * DAY }]),
      clock,
    );
    assert.equal(ruleOf(plan, 'signed'), 'signed');
    assert.equal(ruleOf(plan, 'cosigned'), 'signed');
    assert.equal(ruleOf(plan, 'child'), 'referenced by a kept manifest');
    assert.equal(ruleOf(plan, 'plain'), 'no keep rule matched');
    assert.equal(
      ruleOf(plan, `sha256-${'2'.padStart(64, '0')}.sig`),
      undefined,
      'tag-scheme signatures are not ruled: they follow',
    );
    assert.deepEqual(
      plan.dropTags.map((x) => x.tag),
      ['plain'],
    );
    assert.deepEqual(
      plan.deleteManifests.map((m) => m.digest),
      [d(4)],
    );
  });

  it('signatures follow their subject: dropped with it, parents before children', () => {
    const manifests = [
      { digest: d(20), subject: d(1), artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' },
      { digest: d(40), subject: d(20), artifactType: 'application/vnd.example.attestation-of-signature' },
      { digest: d(30), mediaType: 'application/vnd.oci.image.index.v1+json', references: [d(1)] },
    ];
    // d(20) signs the index.
    manifests[0]!.subject = d(30);
    const plan = planRepository(
      'team/app',
      inv(
        [
          ['multi', 30, 40],
          [`sha256-${'30'.padStart(64, '0')}.att`, 50, 40],
        ],
        manifests,
      ),
      policy([{ kind: 'latest', count: 0 }]),
      clock,
    );
    // The index is signed, so it stays with everything that follows it.
    assert.deepEqual(plan.dropTags, []);
    const unsigned = planRepository(
      'team/app',
      inv(
        [
          ['multi', 30, 40],
          [`sha256-${'30'.padStart(64, '0')}.att`, 50, 40],
        ],
        [
          { ...manifests[0]!, artifactType: 'application/vnd.example.sbom' },
          manifests[1]!,
          manifests[2]!,
          { digest: d(1) },
        ],
      ),
      policy([{ kind: 'latest', count: 0 }]),
      clock,
    );
    assert.deepEqual(
      unsigned.dropTags.map((x) => [x.tag, x.rule]),
      [
        ['multi', 'no keep rule matched'],
        [`sha256-${'30'.padStart(64, '0')}.att`, 'its subject goes'],
      ],
    );
    const order = unsigned.deleteManifests.map((m) => m.digest);
    assert.deepEqual([...order].sort(), [d(1), d(20), d(30), d(40), d(50)].sort());
    const before = (a: string, b: string) => assert.ok(order.indexOf(a) < order.indexOf(b), `${a} before ${b}`);
    before(d(40), d(20));
    before(d(20), d(30));
    before(d(30), d(1));
  });

  it('referrers and cosign tags whose subject is gone go, after the grace period, in every repository', () => {
    const manifests = [
      { digest: d(20), subject: d(99), createdAt: NOW - DAY },
      { digest: d(21), subject: d(98), createdAt: NOW - 60_000 },
    ];
    const plan = planRepository(
      'anything',
      inv([[`sha256-${'97'.padStart(64, '0')}.sig`, 22, 2]], manifests),
      [],
      clock,
    );
    assert.deepEqual(
      plan.dropTags.map((x) => x.rule),
      ['its subject is gone'],
    );
    assert.deepEqual(
      plan.deleteManifests.map((m) => m.digest).sort(),
      [d(20), d(22)],
      'd(21) is within the grace period',
    );
  });

  it('a tag whose manifest is younger than the grace period is kept, so the manifest is never left untagged for good', () => {
    const plan = planRepository(
      'team/app',
      inv([['new', 1, 0]], [{ digest: d(1), createdAt: NOW - 60_000 }]),
      policy([{ kind: 'latest', count: 0 }]),
      clock,
    );
    assert.equal(ruleOf(plan, 'new'), 'pushed within the grace period');
  });

  it('immutable tags are never dropped by retention', () => {
    const plan = planRepository(
      'team/app',
      inv([
        ['v1.0.0', 1, 40],
        ['x', 2, 40],
      ]),
      policy([{ kind: 'latest', count: 0 }]),
      clock,
      (tag) => (tag.startsWith('v') ? 'immutable_tags: v*' : undefined),
    );
    assert.deepEqual(
      plan.decisions.map((x) => [x.tag, x.keep, x.rule]),
      [
        ['v1.0.0', true, 'immutable_tags: v*'],
        ['x', false, 'no keep rule matched'],
      ],
    );
  });

  it('tagSchemeSubject', () => {
    assert.equal(tagSchemeSubject(`sha256-${'a'.repeat(64)}.sig`), `sha256:${'a'.repeat(64)}`);
    assert.equal(tagSchemeSubject(`sha256-${'a'.repeat(64)}.att`), `sha256:${'a'.repeat(64)}`);
    assert.equal(tagSchemeSubject('sha256-abc.sig'), undefined);
    assert.equal(tagSchemeSubject('v1.sig'), undefined);
  });
});
