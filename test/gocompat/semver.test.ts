/** Masterminds/semver v3 constraints, as helm and flux evaluate them (cases after its constraints_test.go). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConstraint, parseStrictVersion } from '../../src/gocompat/semver.js';

describe('Masterminds semver', () => {
  it('Masterminds constraints: comparisons, ranges, ~, ^, wildcards, ||, pre-releases', () => {
    const sat = (c: string, v: string) => parseConstraint(c).check(parseStrictVersion(v));
    assert.ok(sat('>=1.0.0 <2.0.0', '1.5.0'));
    assert.ok(!sat('>=1.0.0 <2.0.0', '2.0.0'));
    assert.ok(sat('>=1.0.0, <2.0.0', '1.0.0'));
    assert.ok(sat('~1.2', '1.2.9') && !sat('~1.2', '1.3.0'));
    assert.ok(sat('~1.2.3', '1.2.4') && !sat('~1.2.3', '1.2.2'));
    assert.ok(sat('^1.2.3', '1.9.0') && !sat('^1.2.3', '2.0.0'));
    assert.ok(sat('^0.2.3', '0.2.9') && !sat('^0.2.3', '0.3.0'));
    assert.ok(sat('1.2.x', '1.2.7') && !sat('1.2.x', '1.3.0'));
    assert.ok(sat('*', '3.0.0') && !sat('*', '3.0.0-rc.1'));
    assert.ok(sat('1.2 - 1.4.5', '1.4.5') && !sat('1.2 - 1.4.5', '1.4.6'));
    assert.ok(sat('<1.0.0 || >=3.0.0', '3.1.0') && !sat('<1.0.0 || >=3.0.0', '2.0.0'));
    assert.ok(!sat('>=1.0.0', '1.1.0-rc.1'), 'a pre-release needs a pre-release in the constraint');
    assert.ok(sat('>=1.0.0-0', '1.1.0-rc.1'));
    assert.ok(sat('!=1.2.3', '1.2.4') && !sat('!=1.2.3', '1.2.3'));
    assert.throws(() => parseConstraint('>=foo'));
  });
});
