import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ERROR_CODES,
  RegistryError,
  RegistryErrors,
  exhaustionError,
  isRegistryError,
  type ErrorCode,
} from '../../src/core/errors.js';

// distribution-spec.md §9.2: the codes clients may act on, with their statuses.
const SPEC_STATUS: Partial<Record<ErrorCode, number>> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  TAG_INVALID: 400,
  RANGE_INVALID: 416,
  PAGINATION_NUMBER_INVALID: 400,
  UNKNOWN: 500,
  UNAVAILABLE: 503,
};

describe('error catalog', () => {
  it('gives spec codes their spec statuses', () => {
    for (const [code, status] of Object.entries(SPEC_STATUS)) {
      assert.equal(ERROR_CODES[code as ErrorCode].status, status, code);
      assert.equal(new RegistryError(code as ErrorCode).status, status, code);
    }
  });

  it('sends Stowage-only codes as a spec code on the wire, keeping their own status', () => {
    const tooLarge = new RegistryError('MANIFEST_TOO_LARGE');
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.wireCode, 'MANIFEST_INVALID');
    const referenced = new RegistryError('BLOB_REFERENCED');
    assert.equal(referenced.status, 405);
    assert.equal(referenced.wireCode, 'UNSUPPORTED');
    assert.equal(new RegistryError('NOT_FOUND').wireCode, 'UNSUPPORTED');
    assert.equal(new RegistryError('METHOD_NOT_ALLOWED').wireCode, 'UNSUPPORTED');
    assert.equal(new RegistryError('BLOB_UNKNOWN').wireCode, 'BLOB_UNKNOWN');
  });

  it('wire codes are uppercase letters and underscores only', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      assert.match(new RegistryError(code).wireCode, /^[A-Z_]+$/);
    }
  });

  it('defaults the message from the catalog and keeps detail and headers', () => {
    const e = new RegistryError('RANGE_INVALID', undefined, { size: 3 }, { Range: '0-2' });
    assert.equal(e.message, 'invalid content range');
    assert.deepEqual(e.detail, { size: 3 });
    assert.deepEqual(e.headers, { Range: '0-2' });
    assert.equal(e.name, 'RegistryError');
    assert.ok(isRegistryError(e));
    assert.ok(!isRegistryError(new Error('x')));
    assert.deepEqual(new RegistryError('UNKNOWN').headers, {});
  });

  it('several errors answer with the first one\u2019s status', () => {
    const many = new RegistryErrors([
      new RegistryError('MANIFEST_BLOB_UNKNOWN', 'a'),
      new RegistryError('MANIFEST_INVALID', 'b'),
    ]);
    assert.equal(many.status, 400);
    assert.equal(many.message, 'a; b');
    assert.equal(new RegistryErrors([]).status, 500);
  });

  it('resource exhaustion (descriptors, memory, disk) is 503 UNAVAILABLE with a Retry-After, never 500', () => {
    for (const code of ['EMFILE', 'ENFILE', 'ENOMEM', 'ENOSPC', 'SQLITE_FULL']) {
      const e = exhaustionError(Object.assign(new Error(code), { code }));
      assert.equal(e?.status, 503, code);
      assert.equal(e.code, 'UNAVAILABLE');
      assert.match(e.headers['Retry-After'] ?? '', /^\d+$/);
    }
    const wrapped = new Error('write failed', { cause: Object.assign(new Error('x'), { code: 'EMFILE' }) });
    assert.equal(exhaustionError(wrapped)?.status, 503, 'found through the cause');
    assert.equal(exhaustionError(Object.assign(new Error('x'), { code: 'EACCES' })), undefined);
    assert.equal(exhaustionError('EMFILE'), undefined);
  });
});
