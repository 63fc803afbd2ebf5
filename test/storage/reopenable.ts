/** A suite fixture over stores that can be opened again on the same data (a restart). */
export async function reopenable<S extends { close(): Promise<void> }>(
  open: () => Promise<S>,
  remove: () => Promise<void>,
): Promise<{ store: S; reopen: () => Promise<S>; cleanup: () => Promise<void> }> {
  const opened: S[] = [];
  const track = async () => {
    const s = await open();
    opened.push(s);
    return s;
  };
  return {
    store: await track(),
    reopen: track,
    cleanup: async () => {
      // The suite may have closed some already; closing twice is harmless for every driver.
      for (const s of opened) await s.close().catch(() => undefined);
      await remove();
    },
  };
}
