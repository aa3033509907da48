/**
 * The browser node's cycle clock, run as a dedicated worker: browsers
 * throttle a hidden tab's own timers (to once a second or less), but not a
 * worker's, so the tab keeps its cycle rate in the background
 * (docs/browser-nodes.md). It answers {id, ms} with {id} after ms.
 */
const scope = self as unknown as { onmessage: ((event: MessageEvent) => void) | null; postMessage(message: unknown): void };

scope.onmessage = (event: MessageEvent) => {
  const { id, ms } = (event.data ?? {}) as { id?: unknown; ms?: unknown };
  if (typeof id !== 'number' || typeof ms !== 'number' || !Number.isFinite(ms)) return;
  setTimeout(() => scope.postMessage({ id }), Math.max(0, Math.min(ms, 60_000)));
};
