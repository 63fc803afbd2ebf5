/** A webhook receiver on loopback for the events tests. */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A webhook receiver: records every request; `answer` decides each reply (a status, or 'hang'). */
export class Receiver {
  readonly got: Received[] = [];
  answer: (n: number) => number | 'hang' = () => 200;
  private server!: Server;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((rq, rs) => {
      const chunks: Buffer[] = [];
      rq.on('data', (c: Buffer) => chunks.push(c));
      rq.on('end', () => {
        const n = this.got.length;
        const a = this.answer(n);
        this.got.push({ headers: rq.headers, body: Buffer.concat(chunks) });
        if (a === 'hang') return; // never answers: Stowage's timeout must cut it
        rs.writeHead(a).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook/0123abcd`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
  /** Waits until `n` requests arrived (the dispatcher polls every 250 ms). */
  async until(n: number): Promise<Received[]> {
    for (let i = 0; i < 1200 && this.got.length < n; i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(this.got.length >= n, `expected ${n} requests, got ${this.got.length}`);
    return this.got;
  }
}
