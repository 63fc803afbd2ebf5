/**
 * Progress of `stowage storage migrate` on stderr: on a terminal one bar for the
 * current phase, redrawn at most ten times a second; otherwise plain lines (one per
 * blob, one per failure, one per phase) that a log keeps readable.
 */
import type { MigrationEvent, MigrationPhase } from '../storage/storage-migration.js';
import { humanBytes } from './progress.js';

export class MigrationProgress {
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private phase: MigrationPhase | undefined;
  private total = 0;
  private done = 0;
  private bytesTotal = 0;
  private bytesDone = 0;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  constructor(
    private readonly enabled: boolean,
    out: NodeJS.WriteStream = process.stderr,
  ) {
    this.out = out;
    this.tty = out.isTTY === true;
  }

  readonly listener = (e: MigrationEvent): void => {
    if (!this.enabled) return;
    if (e.type === 'phase') {
      this.finishPhase();
      this.phase = e.phase;
      this.total = e.total;
      this.done = 0;
      this.bytesTotal = e.bytes ?? 0;
      this.bytesDone = 0;
      if (this.tty) this.timer ??= setInterval(() => this.draw(), 100).unref();
      else this.out.write(`${e.phase}: ${e.total}${e.bytes !== undefined ? ` (${humanBytes(e.bytes)})` : ''}\n`);
      return;
    }
    if (e.type === 'bytes') {
      this.bytesDone += e.n;
      return;
    }
    if (e.kind === 'manifest' || e.phase !== 'manifests') this.done++;
    if (this.tty) {
      if (e.outcome === 'failed') this.line(`failed: ${e.kind} ${e.what}: ${e.reason ?? ''}`);
      return;
    }
    if (e.kind === 'blob' || e.outcome === 'failed')
      this.out.write(
        `${e.kind} ${e.what} ${e.outcome}${e.size !== undefined && e.kind === 'blob' ? ` ${humanBytes(e.size)}` : ''}` +
          `${e.reason ? `: ${e.reason}` : ''} (${this.done}/${this.total})\n`,
      );
  };

  private finishPhase(): void {
    if (!this.phase) return;
    if (this.tty) this.draw(true);
    else this.out.write(`${this.phase}: done ${this.done}/${this.total}\n`);
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  /** A line above the bar. */
  private line(text: string): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.out.write(`${text}\n`);
    this.drawn = false;
    this.draw(true);
  }

  private draw(force = false): void {
    if (!this.phase || (!force && !this.timer)) return;
    const width = Math.max(40, (this.out.columns || 80) - 1);
    const fraction =
      this.bytesTotal > 0 ? this.bytesDone / this.bytesTotal : this.total > 0 ? this.done / this.total : 1;
    const counts =
      `${this.done}/${this.total}` +
      (this.bytesTotal > 0
        ? `  ${humanBytes(Math.min(this.bytesDone, this.bytesTotal))} / ${humanBytes(this.bytesTotal)}`
        : '');
    const label = this.phase.padEnd(10);
    const barWidth = Math.max(10, Math.min(40, width - label.length - counts.length - 6));
    const fill = Math.round(Math.min(1, fraction) * barWidth);
    this.out.write(
      `\r\x1b[K${label} [${'='.repeat(fill)}${' '.repeat(barWidth - fill)}] ${counts}`.slice(0, width + 4),
    );
    this.drawn = true;
  }

  stop(): void {
    this.finishPhase();
    this.phase = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
