// The event bus: named events, synchronous delivery, handlers isolated from
// each other (one throwing handler does not stop the others).

/** A handler of one event. */
export type EventHandler = (payload?: unknown) => void

/** `on` / `off` / `emit` over named events. */
export interface EventBus {
  on(event: string, handler: EventHandler): () => void
  off(event: string, handler: EventHandler): void
  emit(event: string, payload?: unknown): void
}

/** A new, empty event bus. */
export function createEventBus(): EventBus {
  const handlers = new Map<string, Set<EventHandler>>()
  const bus: EventBus = {
    on(event, handler) {
      let set = handlers.get(event)
      if (!set) {
        set = new Set()
        handlers.set(event, set)
      }
      set.add(handler)
      return () => bus.off(event, handler)
    },
    off(event, handler) {
      handlers.get(event)?.delete(handler)
    },
    emit(event, payload) {
      for (const handler of [...(handlers.get(event) ?? [])]) {
        try {
          handler(payload)
        } catch (error) {
          console.error(`[raclette] handler of event "${event}" failed:`, error)
        }
      }
    },
  }
  return bus
}
