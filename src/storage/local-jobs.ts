/**
 * runExclusive for stores only one process opens (the embedded ones): a job
 * name is held while its function runs, so overlapping timers skip rather than
 * pile up.
 */
export class LocalJobs {
  private readonly running = new Set<string>();

  async runExclusive(job: string, fn: () => Promise<void>): Promise<boolean> {
    if (this.running.has(job)) return false;
    this.running.add(job);
    try {
      await fn();
      return true;
    } finally {
      this.running.delete(job);
    }
  }
}
