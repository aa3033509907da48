/**
 * Lets a timer not keep a Node.js process alive. Node's timers are objects
 * with unref(); a browser's are plain numbers, where this does nothing: the
 * node's code runs in both.
 */
export function unref(timer: unknown): void {
  (timer as { unref?: () => void } | null)?.unref?.();
}
