import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  GC_DEFAULTS,
  LifecycleConfigError,
  parseDurationMs,
  parseGc,
  parseRetention,
} from '../../src/config/lifecycle-config.js';

describe('lifecycle config', () => {
  it('durations', () => {
    assert.equal(parseDurationMs('6h', 'x'), 6 * 3_600_000);
    assert.equal(parseDurationMs('1h30m', 'x'), 90 * 60_000);
    assert.equal(parseDurationMs('0', 'x'), 0);
    assert.equal(parseDurationMs(0, 'x'), 0);
    assert.equal(parseDurationMs('500ms', 'x'), 500);
    assert.equal(parseDurationMs('2w', 'x'), 14 * 86_400_000);
    for (const bad of ['', '6', 'h', '1.5h', '-1h', 6, null, '1 h'])
      assert.throws(() => parseDurationMs(bad, 'gc.interval'), /gc\.interval must be a duration/);
  });

  it('gc: defaults 6h / 1h, each key optional, unknown keys refused', () => {
    assert.deepEqual(parseGc(undefined), GC_DEFAULTS);
    assert.deepEqual(GC_DEFAULTS, { intervalMs: 6 * 3_600_000, gracePeriodMs: 3_600_000 });
    assert.deepEqual(parseGc({ grace_period: '10m' }), { intervalMs: 6 * 3_600_000, gracePeriodMs: 600_000 });
    assert.throws(() => parseGc({ intervall: '1h' }), /unknown setting "intervall"/);
    assert.throws(() => parseGc('6h'), /gc must be a mapping/);
  });

  it('retention: every keep rule, and errors that name the place', () => {
    const parsed = parseRetention([
      {
        repositories: 'team/**',
        keep: [
          { latest: 10 },
          { semver: 5 },
          { semver_range: '>=1.0.0, <2' },
          { matching: '^main$' },
          { not_matching: '^pr-' },
          { pulled_within: '30d' },
          { pushed_within: '7d' },
        ],
        untagged_older_than: '7d',
      },
      { repositories: 'scratch/*' },
    ]);
    assert.deepEqual(parsed, [
      {
        repositories: 'team/**',
        keep: [
          { kind: 'latest', count: 10 },
          { kind: 'semver', count: 5 },
          { kind: 'semver_range', range: '>=1.0.0, <2' },
          { kind: 'matching', pattern: '^main$' },
          { kind: 'not_matching', pattern: '^pr-' },
          { kind: 'pulled_within', ms: 30 * 86_400_000 },
          { kind: 'pushed_within', ms: 7 * 86_400_000 },
        ],
        untaggedOlderThanMs: 7 * 86_400_000,
      },
      { repositories: 'scratch/*', keep: [] },
    ]);
    assert.equal(parseRetention(undefined), undefined);
    const bad: [unknown, RegExp][] = [
      [{}, /must be a list/],
      [[{ repositories: 'Team/**' }], /retention\[0\]\.repositories: invalid repository glob/],
      [[{ repositories: 'a', keep: [{ latest: -1 }] }], /retention\[0\]\.keep\[0\]\.latest must be a whole number/],
      [[{ repositories: 'a', keep: [{ latest: 1, semver: 2 }] }], /exactly one of/],
      [[{ repositories: 'a', keep: [{ newest: 1 }] }], /unknown keep rule "newest"/],
      [[{ repositories: 'a', keep: [{ matching: '(' }] }], /retention\[0\]\.keep\[0\]\.matching:/],
      [[{ repositories: 'a', keep: [{ semver_range: '>>1' }] }], /semver_range/],
      [[{ repositories: 'a', keep: 'all' }], /keep must be a list/],
      [[{ repositories: 'a', untagged: '1d' }], /unknown setting "untagged"/],
    ];
    for (const [raw, re] of bad)
      assert.throws(
        () => parseRetention(raw),
        (e: Error) => e instanceof LifecycleConfigError && re.test(e.message),
      );
  });
});
