import type { UserStatus } from './store.js'

/**
 * What protected routes need to know of a user (exists, active), kept in
 * memory so that a steady stream of requests does no query. Bounded: the
 * least recently used entry goes when it is full. Every local change to a
 * user deletes its entry.
 */
export class UserStatusCache {
  readonly #entries = new Map<number, UserStatus>()

  constructor (readonly maxSize: number) {}

  get size (): number {
    return this.#entries.size
  }

  get (id: number): UserStatus | undefined {
    const status = this.#entries.get(id)
    if (status !== undefined) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.#entries.delete(id)
      this.#entries.set(id, status)
    }
    return status
  }

  set (id: number, status: UserStatus): void {
    this.#entries.delete(id)
    this.#entries.set(id, status)
    if (this.#entries.size > this.maxSize) {
      this.#entries.delete(this.#entries.keys().next().value!)
    }
  }

  delete (id: number): void {
    this.#entries.delete(id)
  }
}
