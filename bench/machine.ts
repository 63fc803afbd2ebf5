/**
 * The machine's own limits, measured in the same run as the scenarios, so the
 * registries' figures can be read against them: single-core SHA-256, sequential
 * disk write with fsync (same filesystem as the registries' data), and loopback
 * TCP between two threads.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { resumeSha256, sha256Implementation, type Sha256Implementation } from '../src/storage/s3/resumable-sha256.js';
import { deterministicBytes, MiB } from './data.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** Filesystem type and device of the data directory. */
  filesystem: string;
}

export interface MachineLimits {
  sha256MiBs: number;
  /**
   * The S3 store's resumable SHA-256 (src/storage/s3/resumable-sha256.ts), one
   * core, 64 KiB updates (as request bodies arrive) with a save and a resume every
   * 8 MiB (as an upload's appends): OpenSSL through the addon, and hash-wasm.
   * Absent in runs from before it was measured.
   */
  resumableSha256MiBs?: Partial<Record<Sha256Implementation, number>>;
  /** The better of the two disk measurements (start and end of the run); targets use this. */
  diskWriteFsyncMiBs: number;
  /** Each disk measurement, in order (virtual disks vary over time). */
  diskWriteFsyncSamples: number[];
  /** Bytes written for the disk figure. */
  diskWriteBytes: number;
  loopbackTcpMiBs: number;
}

export function machineInfo(dir: string): MachineInfo {
  const fs = spawnSync('df', ['--output=fstype,source', dir], { encoding: 'utf8' });
  const line = (fs.stdout ?? '').trim().split('\n')[1]?.trim().replace(/\s+/g, ' ') ?? 'unknown';
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    filesystem: line,
  };
}

/** Single-core SHA-256 over 1 MiB updates for about `ms` milliseconds. */
export function measureSha256(ms: number): number {
  const buf = deterministicBytes(64 * MiB, 'stowage-bench-sha');
  const hash = createHash('sha256');
  hash.update(buf.subarray(0, MiB)); // warm-up
  let bytes = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let off = 0; off < buf.length; off += MiB) hash.update(buf.subarray(off, off + MiB));
    bytes += buf.length;
  }
  hash.digest();
  return bytes / MiB / ((performance.now() - t0) / 1000);
}

/** `measureSha256` for the S3 store's resumable SHA-256, in the way an upload uses it. */
export async function measureResumableSha256(implementation: Sha256Implementation, ms: number): Promise<number> {
  const buf = deterministicBytes(8 * MiB, 'stowage-bench-sha');
  let hash = await resumeSha256(undefined, implementation);
  let bytes = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let off = 0; off < buf.length; off += 64 * 1024) hash.update(buf.subarray(off, off + 64 * 1024));
    bytes += buf.length;
    hash = await resumeSha256(hash.save(), implementation);
  }
  hash.hex();
  return bytes / MiB / ((performance.now() - t0) / 1000);
}

/**
 * Writes `total` bytes sequentially (8 MiB writes) into `dir`, fsyncs, and times it
 * all. The bytes never repeat (like real layers): a virtual disk may store a
 * repeated block more cheaply. `keep` leaves the file (deleted by the caller), so a
 * series of probes allocates new space as a series of pushes does; a file deleted
 * right away lets the next probe reuse its blocks, which on this kind of VM is
 * several times faster than writing blocks the disk has not held before.
 */
export async function measureDiskWrite(
  dir: string,
  total: number,
  opts: { name?: string; keep?: boolean } = {},
): Promise<number> {
  const data = deterministicBytes(total, `stowage-bench-disk-${opts.name ?? ''}`);
  const file = path.join(dir, opts.name ?? 'disk-write-test');
  spawnSync('sync');
  const t0 = performance.now();
  const fh = await open(file, 'w');
  try {
    for (let written = 0; written < total;) {
      const n = Math.min(8 * MiB, total - written);
      const { bytesWritten } = await fh.write(data, written, n, written);
      written += bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (!opts.keep) await rm(file, { force: true });
  return total / MiB / seconds;
}

/** One thread sends `total` bytes over a loopback TCP connection to another, which counts them. */
export async function measureLoopback(total: number): Promise<number> {
  // The receiver runs in a worker thread: sender and receiver each get a core.
  const receiver = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const net = require('node:net');
    const srv = net.createServer((sock) => {
      let got = 0;
      sock.on('data', (c) => {
        got += c.length;
        if (got >= workerData.total) sock.end('k');
      });
    });
    srv.listen(0, '127.0.0.1', () => parentPort.postMessage(srv.address().port));
    parentPort.on('message', () => srv.close(() => process.exit(0)));
    `,
    { eval: true, workerData: { total } },
  );
  const port = await new Promise<number>((resolve, reject) => {
    receiver.once('message', resolve);
    receiver.once('error', reject);
  });
  const buf = deterministicBytes(4 * MiB, 'stowage-bench-tcp');
  const seconds = await new Promise<number>((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let t0 = 0;
    sock.once('connect', () => {
      t0 = performance.now();
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const n = Math.min(buf.length, total - sent);
          sent += n;
          if (!sock.write(n === buf.length ? buf : buf.subarray(0, n))) {
            sock.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    sock.once('data', () => {
      resolve((performance.now() - t0) / 1000);
      sock.destroy();
    });
    sock.once('error', reject);
  });
  receiver.postMessage('stop');
  await new Promise((r) => receiver.once('exit', r));
  return total / MiB / seconds;
}

export async function measureMachine(dir: string, smoke: boolean): Promise<MachineLimits> {
  const sha256MiBs = measureSha256(smoke ? 200 : 2000);
  const resumableSha256MiBs: MachineLimits['resumableSha256MiBs'] = {};
  const impls: Sha256Implementation[] =
    sha256Implementation().name === 'openssl' ? ['openssl', 'hash-wasm'] : ['hash-wasm'];
  for (const i of impls) resumableSha256MiBs[i] = await measureResumableSha256(i, smoke ? 200 : 2000);
  const diskWriteBytes = smoke ? 64 * MiB : 1024 * MiB;
  const diskWriteFsyncMiBs = await measureDiskWrite(dir, diskWriteBytes);
  const loopbackTcpMiBs = await measureLoopback(smoke ? 256 * MiB : 8192 * MiB);
  return {
    sha256MiBs,
    resumableSha256MiBs,
    diskWriteFsyncMiBs,
    diskWriteFsyncSamples: [diskWriteFsyncMiBs],
    diskWriteBytes,
    loopbackTcpMiBs,
  };
}

const USER_HZ = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** Whole-machine CPU time spent busy (not idle or iowait) so far, in seconds, from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / USER_HZ;
}

/** 1-minute load average, to warn when something else is using the machine. */
export function loadAverage(): number {
  return os.loadavg()[0] ?? 0;
}

/**
 * CPU time (seconds) used so far by user-space processes other than `exclude`:
 * live ones plus the children they reaped. Kernel threads (writeback, softirq)
 * are left out: they work for the registries too.
 */
export function otherProcessesCpuSeconds(exclude: ReadonlySet<number>): number {
  let ticks = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (exclude.has(pid) || pid === 2) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state ppid ... utime(11) stime(12) cutime(13) cstime(14)
    if (Number(f[1]) === 2) continue; // kernel thread
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / USER_HZ;
}

/**
 * Waits (up to `maxSeconds`) until other processes use less than `pct` % of a
 * core over one-second samples. Returns the seconds waited.
 */
export async function waitForQuiet(exclude: ReadonlySet<number>, maxSeconds: number, pct = 15): Promise<number> {
  const t0 = Date.now();
  while ((Date.now() - t0) / 1000 < maxSeconds) {
    const a = otherProcessesCpuSeconds(exclude);
    await new Promise((r) => setTimeout(r, 1000));
    const used = (otherProcessesCpuSeconds(exclude) - a) * 100;
    if (used < pct) break;
  }
  return (Date.now() - t0) / 1000;
}
