import type { UserStatus } from './store.js'

interface Entry { status: UserStatus, expiresAt: number }

/**
 * What protected routes need to know of a user (exists, active), kept in
 * memory so that a steady stream of requests does no query. Bounded: the
 * least recently used entry goes when it is full. Every local change to a
 * user deletes its entry at once; an entry also expires after `ttlMs`, which
 * bounds how long a change made elsewhere (another process, SQL by hand)
 * goes unseen.
 */
export class UserStatusCache {
  readonly #entries = new Map<number, Entry>()

  constructor (readonly maxSize: number, readonly ttlMs: number, readonly now: () => number = Date.now) {}

  get size (): number {
    return this.#entries.size
  }

  get (id: number): UserStatus | undefined {
    const entry = this.#entries.get(id)
    // An expired entry stays (until it is replaced or evicted) for stale() to read.
    if (entry === undefined || entry.expiresAt <= this.now()) return undefined
    this.#entries.delete(id)
    // Map keeps insertion order: re-inserting marks it most recently used.
    this.#entries.set(id, entry)
    return entry.status
  }

  /** The last state known, expired or not: what protected routes use while the database is unreachable. */
  stale (id: number): UserStatus | undefined {
    return this.#entries.get(id)?.status
  }

  set (id: number, status: UserStatus): void {
    this.#entries.delete(id)
    this.#entries.set(id, { status, expiresAt: this.now() + this.ttlMs })
    if (this.#entries.size > this.maxSize) {
      this.#entries.delete(this.#entries.keys().next().value!)
    }
  }

  delete (id: number): void {
    this.#entries.delete(id)
  }

  clear (): void {
    this.#entries.clear()
  }
}
