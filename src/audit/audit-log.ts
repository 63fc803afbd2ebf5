/**
 * The audit trail's writer: JSON lines appended to a file (opened for append, so
 * `stowage serve` and the local admin commands can share it: each line is one
 * write) or to stdout. Separate from the request log: its own file, and marked
 * lines when it shares stdout.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { auditLine, type AuditRecord } from '../core/audit.js';

export interface AuditDestination {
  /** A file path, or "stdout". */
  file: string;
}

export class AuditLog {
  private readonly out: WriteStream | NodeJS.WriteStream;
  private failed: Error | undefined;

  constructor(readonly destination: AuditDestination) {
    if (destination.file === 'stdout') this.out = process.stdout;
    else {
      const file = createWriteStream(destination.file, { flags: 'a', mode: 0o600 });
      // A write error must not crash the server; it is reported by `close` and the next open.
      file.on('error', (e) => (this.failed = e));
      this.out = file;
    }
  }

  write(record: Omit<AuditRecord, 'time'> & { time?: string }): void {
    if (this.failed) return;
    this.out.write(auditLine({ time: new Date().toISOString(), ...record } as AuditRecord));
  }

  /** Flushes and closes the file (stdout stays open). */
  async close(): Promise<void> {
    const out = this.out;
    if (out === process.stdout) return;
    await new Promise<void>((resolve) => (out as WriteStream).end(resolve));
    if (this.failed) throw this.failed;
  }
}
