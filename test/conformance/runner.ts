/**
 * A small spec runner with ginkgo's semantics as the conformance suite uses
 * them: specs are declared in nested contexts, then run one after another in
 * declaration order; a failing spec does not stop the next ones (later specs
 * see whatever state the earlier ones left); a spec can skip itself.
 */
import { inspect } from 'node:util';

export type SpecStatus = 'passed' | 'failed' | 'skipped';

export interface SpecResult {
  /** Contexts from the workflow title down, e.g. ["Pull", "Pull manifests"]. */
  path: string[];
  name: string;
  status: SpecStatus;
  /** Failure message, or the skip reason. */
  message?: string;
}

/** Thrown by `skip()`; the runner records the spec as skipped. */
export class Skip extends Error {}

export function skip(reason: string): never {
  throw new Skip(reason);
}

/** RunOnlyIf / RunOnlyIfNot of setup.go, with the reason added to Go's message. */
export function runOnlyIf(v: boolean, why: string): void {
  if (!v) skip(`you have skipped this test: ${why}`);
}
export function runOnlyIfNot(v: boolean, why: string): void {
  if (v) skip(`you have skipped this test: ${why}`);
}

interface Spec {
  path: string[];
  name: string;
  fn: () => Promise<void> | void;
}

export class SpecTree {
  private readonly specs: Spec[] = [];
  private readonly stack: string[] = [];

  context(title: string, body: () => void): void {
    this.stack.push(title);
    try {
      body();
    } finally {
      this.stack.pop();
    }
  }

  specify(name: string, fn: () => Promise<void> | void): void {
    this.specs.push({ path: [...this.stack], name, fn });
  }

  get size(): number {
    return this.specs.length;
  }

  /** Runs every spec in order; `disabled` (when set) skips them all with that reason. */
  async run(onResult: (r: SpecResult) => void, disabled?: string): Promise<SpecResult[]> {
    const results: SpecResult[] = [];
    for (const s of this.specs) {
      let r: SpecResult;
      if (disabled !== undefined) {
        r = { path: s.path, name: s.name, status: 'skipped', message: disabled };
      } else {
        try {
          await s.fn();
          r = { path: s.path, name: s.name, status: 'passed' };
        } catch (e) {
          r =
            e instanceof Skip
              ? { path: s.path, name: s.name, status: 'skipped', message: e.message }
              : { path: s.path, name: s.name, status: 'failed', message: describe(e) };
        }
      }
      results.push(r);
      onResult(r);
    }
    return results;
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  return inspect(e);
}
