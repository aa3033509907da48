/**
 * A tiny typed event emitter. The node's events (cycles, peers, log lines)
 * are what a UI, a store or a test subscribes to; a throwing listener is
 * isolated so it can never stop the drift cycle.
 */
export type Listener<T> = (payload: T) => void;

export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners: { [K in keyof Events]?: Set<Listener<Events[K]>> } = {};

  constructor(private readonly onListenerError: (event: string, err: unknown) => void) {}

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const set = (this.listeners[event] ??= new Set());
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners[event];
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (err) {
        this.onListenerError(String(event), err);
      }
    }
  }
}
