/**
 * Assertions for RegistryError: a failure is only right when it carries the
 * right catalog code (the HTTP status and wire code follow from it).
 */
import assert from 'node:assert/strict';
import { RegistryError, RegistryErrors, type ErrorCode } from '../../src/core/errors.js';

/** A predicate for assert.throws / assert.rejects matching a RegistryError with `code`. */
export function registryError(code: ErrorCode, extra?: (e: RegistryError) => void): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof RegistryError, `expected RegistryError ${code}, got ${describe(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    extra?.(e);
    return true;
  };
}

export function throwsCode(fn: () => unknown, code: ErrorCode, extra?: (e: RegistryError) => void): void {
  assert.throws(fn, registryError(code, extra));
}

export async function rejectsCode(
  p: Promise<unknown> | (() => Promise<unknown>),
  code: ErrorCode,
  extra?: (e: RegistryError) => void,
): Promise<RegistryError> {
  let caught: RegistryError | undefined;
  await assert.rejects(p, (e: unknown) => {
    registryError(code, extra)(e);
    caught = e as RegistryError;
    return true;
  });
  return caught!;
}

/** Expects a RegistryErrors (several answered together) and returns its errors. */
export async function rejectsMany(p: Promise<unknown>): Promise<RegistryError[]> {
  let caught: RegistryErrors | undefined;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RegistryErrors, `expected RegistryErrors, got ${describe(e)}`);
    caught = e;
    return true;
  });
  return caught!.errors;
}

function describe(e: unknown): string {
  if (e instanceof RegistryError) return `RegistryError ${e.code}: ${e.message}`;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
