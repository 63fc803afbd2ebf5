/** What every page gets: the caller's session, the registry's info, where to draw, how to move on. */
import type { Info, Session } from './api.js';

export interface PageContext {
  session: Session;
  info: Info;
  /** The <main> element, emptied for the page. */
  main: HTMLElement;
  /** Aborted when the user moves to another page. */
  signal: AbortSignal;
  navigate(to: string, opts?: { replace?: boolean }): void;
  /** Called after signing in or out: refreshes the session and the header. */
  refreshSession(): Promise<void>;
  /** Sets the document title and the page's heading, and moves focus to it. */
  title(text: string, heading?: Node | string): HTMLHeadingElement;
}
