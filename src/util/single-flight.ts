/**
 * One run of a task per key at a time: callers that arrive while it runs get the same
 * promise instead of starting another (concurrent first pulls fetch once). In-process
 * only; replicas each run their own.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** The running task for `key`, or a new run of `task`; `leader` tells the caller which. */
  run(key: string, task: () => Promise<T>): { promise: Promise<T>; leader: boolean } {
    const current = this.running.get(key);
    if (current) return { promise: current, leader: false };
    const promise = task().finally(() => {
      if (this.running.get(key) === promise) this.running.delete(key);
    });
    this.running.set(key, promise);
    return { promise, leader: true };
  }

  has(key: string): boolean {
    return this.running.has(key);
  }
}
