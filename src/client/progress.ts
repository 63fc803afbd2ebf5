/**
 * What the client reports while it works, for progress bars and logs. Events are
 * advisory: a listener must not throw, and nothing waits for it.
 */

export interface BlobEvent {
  type: 'blob';
  /** upload: to a registry; download: from one; prepare: local work (compressing a layer). */
  action: 'upload' | 'download' | 'prepare';
  state: 'start' | 'progress' | 'done';
  digest: string;
  size: number;
  /** Bytes done so far (uploads and downloads resume, so this can go back). */
  transferred: number;
  mediaType?: string;
  /** How it ended: uploaded, mounted (cross-repository), exists (skipped), downloaded, prepared. */
  result?: 'uploaded' | 'mounted' | 'exists' | 'downloaded' | 'prepared';
}

export interface ManifestEvent {
  type: 'manifest';
  action: 'push' | 'exists' | 'fetch';
  digest: string;
  mediaType: string;
  /** The tag or digest it was pushed under. */
  reference?: string;
}

export interface WarningEvent {
  type: 'warning';
  message: string;
}

export type ProgressEvent = BlobEvent | ManifestEvent | WarningEvent;
export type ProgressListener = (event: ProgressEvent) => void;

/** Calls the listener, never letting it break the operation. */
export function emitter(listener: ProgressListener | undefined): ProgressListener {
  if (!listener) return () => undefined;
  return (e) => {
    try {
      listener(e);
    } catch {
      /* a broken progress bar must not fail a push */
    }
  };
}
