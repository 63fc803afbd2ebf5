/**
 * Progress bars for transfers, drawn on stderr when it is a terminal: one line per
 * blob in flight (upload, download, or local preparation such as compressing a
 * layer), redrawn at most ten times a second, plus a summary line — and, for commands
 * that work item by item (`stowage mirror`'s tags), a heading saying which. Nothing is
 * drawn when stderr is not a TTY; warnings are always printed.
 */
import type { ProgressEvent } from '../client/index.js';

interface Line {
  digest: string;
  action: string;
  size: number;
  transferred: number;
  state: 'start' | 'progress' | 'done';
  result?: string;
  at: number;
}

export function humanBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

const VERB: Record<string, string> = { upload: 'uploading', download: 'downloading', prepare: 'preparing' };

export class ProgressRenderer {
  private readonly lines = new Map<string, Line>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private heading: string | undefined;
  private readonly out: NodeJS.WriteStream;
  private readonly enabled: boolean;

  constructor(opts: { enabled: boolean; out?: NodeJS.WriteStream }) {
    this.out = opts.out ?? process.stderr;
    this.enabled = opts.enabled && this.out.isTTY === true;
  }

  readonly listener = (e: ProgressEvent): void => {
    if (e.type === 'warning') {
      this.clear();
      this.out.write(`stowage: warning: ${e.message}\n`);
      this.draw();
      return;
    }
    if (!this.enabled || e.type !== 'blob') return;
    const key = `${e.action}:${e.digest}`;
    this.lines.set(key, {
      digest: e.digest,
      action: e.action,
      size: e.size,
      transferred: e.transferred,
      state: e.state,
      ...(e.result ? { result: e.result } : {}),
      at: Date.now(),
    });
    this.dirty = true;
    this.timer ??= setInterval(() => this.draw(), 100).unref();
  };

  /** The line above the bars (`[2/5] library/alpine:3.18.0`); finished blobs of the last item are dropped. */
  status(text: string): void {
    if (!this.enabled) return;
    this.heading = text;
    for (const [k, l] of this.lines) if (l.state === 'done') this.lines.delete(k);
    this.dirty = true;
    this.timer ??= setInterval(() => this.draw(), 100).unref();
  }

  private clear(): void {
    if (!this.enabled || this.drawn === 0) return;
    this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    if (!this.enabled || (!this.dirty && this.drawn > 0)) return;
    this.dirty = false;
    const width = Math.max(40, (this.out.columns || 80) - 1);
    const all = [...this.lines.values()];
    // Active lines first (oldest first), then the most recently finished ones.
    const active = all.filter((l) => l.state !== 'done');
    const done = all.filter((l) => l.state === 'done').sort((a, b) => b.at - a.at);
    const shown = [...active.slice(0, 10), ...done.slice(0, Math.max(0, 12 - Math.min(active.length, 10)))];
    const text = [...(this.heading ? [this.heading.slice(0, width)] : []), ...shown.map((l) => this.format(l, width))];
    const total = all.reduce((s, l) => s + l.size, 0);
    const moved = all.reduce((s, l) => s + Math.min(l.transferred, l.size), 0);
    text.push(
      `${all.length - active.length}/${all.length} blobs, ${humanBytes(moved)} of ${humanBytes(total)}`.slice(0, width),
    );
    this.clear();
    this.out.write(`${text.join('\n')}\n`);
    this.drawn = text.length;
  }

  private format(l: Line, width: number): string {
    const id = l.digest.slice(l.digest.indexOf(':') + 1, l.digest.indexOf(':') + 13);
    if (l.state === 'done')
      return `${id}  ${l.result ?? 'done'}${l.result === 'uploaded' || l.result === 'downloaded' ? ` ${humanBytes(l.size)}` : ''}`.slice(
        0,
        width,
      );
    const verb = (VERB[l.action] ?? l.action).padEnd(11);
    const counts = `${humanBytes(l.transferred)} / ${humanBytes(l.size)}`;
    const barWidth = Math.max(10, Math.min(40, width - id.length - verb.length - counts.length - 8));
    const fill = l.size > 0 ? Math.round((Math.min(l.transferred, l.size) / l.size) * barWidth) : barWidth;
    return `${id}  ${verb} [${'='.repeat(fill)}${' '.repeat(barWidth - fill)}] ${counts}`.slice(0, width);
  }

  /** Stops drawing and removes the bars (the command prints its own summary). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }
}
