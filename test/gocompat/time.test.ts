/** time.RFC3339 as Go formats and parses it. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { formatRFC3339, isRFC3339, normalizeRFC3339Nano } from '../../src/gocompat/time.js';

describe('RFC 3339 (Go time)', () => {
  it('formats whole seconds, "Z" in UTC', () => {
    assert.equal(formatRFC3339(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))), '2026-01-02T03:04:05Z');
    assert.equal(formatRFC3339(new Date(0)), '1970-01-01T00:00:00Z');
  });

  it('formats the local zone with its offset, as t.Format(time.RFC3339) does', () => {
    const run = (tz: string) =>
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { formatRFC3339 } from ${JSON.stringify(new URL('../../src/gocompat/time.js', import.meta.url).href)}; process.stdout.write(formatRFC3339(new Date(0), 'local'))`,
        ],
        { env: { ...process.env, TZ: tz } },
      ).toString();
    assert.equal(run('UTC'), '1970-01-01T00:00:00Z');
    assert.equal(run('Europe/Berlin'), '1970-01-01T01:00:00+01:00');
    assert.equal(run('America/St_Johns'), '1969-12-31T20:30:00-03:30');
  });

  it('parses as Go parses (ranges checked)', () => {
    for (const ok of ['2026-01-01T00:00:00Z', '1970-01-01T01:00:00+01:00', '2026-02-28T23:59:59.123Z'])
      assert.ok(isRFC3339(ok), ok);
    for (const bad of ['2026-01-01', '2026-02-30T00:00:00Z', '2026-01-01 00:00:00Z', '2026-01-01T24:00:00Z'])
      assert.ok(!isRFC3339(bad), bad);
  });

  it('round-trips through JSON as time.Time does (RFC3339Nano out)', () => {
    assert.equal(normalizeRFC3339Nano('2026-01-01t00:00:00.1200000000z'), '2026-01-01T00:00:00.12Z');
    assert.equal(normalizeRFC3339Nano('2026-01-01T00:00:00+00:00'), '2026-01-01T00:00:00Z');
    assert.equal(normalizeRFC3339Nano('2026-01-01T00:00:00.000-05:00'), '2026-01-01T00:00:00-05:00');
    assert.equal(normalizeRFC3339Nano('2026-01-01'), undefined);
  });
});
