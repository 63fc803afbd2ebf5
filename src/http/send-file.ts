import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import type { LocalFileBody } from '../storage/blob-store.js';

/**
 * Zero-copy responses: the kernel copies a blob file to the client's socket
 * (sendfile(2), through the small addon in native/). Without it every byte is read
 * into user space and written back out, which on a small machine makes large
 * pulls CPU-bound. Plain-TCP responses only: TLS needs the bytes in user space.
 */
interface NativeSendfile {
  start(
    socketFd: number,
    fileFd: number,
    offset: number,
    length: number,
    done: (errno: number, sent: number) => void,
  ): number;
  cancel(id: number): void;
}

/** Why the addon is missing where it should be there (Linux, not turned off). */
let loadProblem: string | undefined;
const native: NativeSendfile | undefined = load();

function load(): NativeSendfile | undefined {
  // STOWAGE_SENDFILE=off: stream every body, to compare or to rule the addon out.
  if (process.platform !== 'linux' || process.env.STOWAGE_SENDFILE === 'off') return undefined;
  try {
    // dist/src/http/ → native/build/Release/ at the package root.
    return createRequire(import.meta.url)('../../../native/build/Release/stowage_sendfile.node') as NativeSendfile;
  } catch (e) {
    loadProblem = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return undefined;
  }
}

/** Why sendfile is unavailable although it should not be, for a warning at start. */
export function sendFileProblem(): string | undefined {
  return loadProblem;
}

/** Transfers in progress and done, and bytes sent (for tests and diagnostics). */
export const sendFileStats = { active: 0, transfers: 0, bytes: 0 };

/** Whether this process can send files with sendfile(2) (the addon is built and loaded). */
export function sendFileAvailable(): boolean {
  return native !== undefined;
}

/**
 * The response's socket. A keep-alive client may send its next request the moment
 * the last byte of the previous body arrives, before that response has finished
 * in Node; the new response then waits for the socket ('socket' event).
 */
export function responseSocket(res: ServerResponse): Promise<Socket | undefined> {
  if (res.socket) return Promise.resolve(res.socket);
  return new Promise((resolve) => {
    const onSocket = (socket: Socket) => {
      res.off('close', onClose);
      resolve(socket);
    };
    const onClose = () => {
      res.off('socket', onSocket);
      resolve(undefined);
    };
    res.once('socket', onSocket);
    res.once('close', onClose);
  });
}

/** The socket's descriptor when a file may be sent to it directly, else undefined. */
export function sendFileTarget(socket: Socket | null | undefined): number | undefined {
  if (!native || !socket || (socket as { encrypted?: boolean }).encrypted) return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * Sends `length` bytes of `fileFd` from `offset` to the socket. Anything written
 * to the socket before (the response head) goes first; nothing may be written
 * while this runs. Rejects when the client goes away or the file is short; the
 * caller then destroys the socket, as a failed stream would.
 */
export async function sendFile(socket: Socket, fileFd: number, offset: number, length: number): Promise<void> {
  const socketFd = sendFileTarget(socket);
  if (socketFd === undefined || !native) throw new Error('sendfile is not available for this socket');
  // An empty write completes after everything queued before it reached the kernel.
  await new Promise<void>((resolve, reject) => socket.write(Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
  if (socket.destroyed) throw new Error('socket closed before the body was sent');
  await new Promise<void>((resolve, reject) => {
    const onClose = () => native.cancel(id);
    const id = native.start(socketFd, fileFd, offset, length, (errno, sent) => {
      socket.off('close', onClose);
      sendFileStats.active--;
      sendFileStats.bytes += sent;
      if (errno === 0) resolve();
      else reject(errnoError(errno, sent, length));
    });
    sendFileStats.active++;
    sendFileStats.transfers++;
    socket.once('close', onClose);
  });
}

/**
 * Sends `length` bytes of a blob store's local file from `offset` (see sendFile),
 * then closes the file, whatever happened. Blob stores answer with a file only
 * when asked for one, that is when `socket` takes sendfile.
 */
export async function sendFileBody(
  socket: Socket | undefined,
  body: LocalFileBody,
  offset: number,
  length: number,
): Promise<void> {
  try {
    if (!socket) throw new Error('a local file body for a response that cannot send files');
    await sendFile(socket, body.fd, offset, length);
  } finally {
    await body.close();
  }
}

function errnoError(errno: number, sent: number, length: number): NodeJS.ErrnoException {
  const code = Object.entries(constants.errno).find(([, n]) => n === errno)?.[0] ?? `E${errno}`;
  const err: NodeJS.ErrnoException = new Error(`sendfile: ${code} after ${sent} of ${length} bytes`);
  err.code = code;
  err.errno = errno;
  return err;
}
