import { serviceUnavailable } from '../errors.js'
import type { PasswordHasher } from './passwords.js'

// argon2 runs on libuv's thread pool, off the event loop, but it takes whole
// cores: left unbounded, a login flood queues hundreds of hashes (each ~20 ms
// of CPU and 19 MiB of memory) and the cores the event loop needs for token
// refresh and protected routes go to hashing. Here at most `concurrency`
// hashes run at once, at most `queueLimit` wait, and the next one is refused
// at once with a 503 and Retry-After, which costs nothing.

/** Seconds a refused client is told to wait: about what the queue takes to drain at the default sizes. */
export const HASH_RETRY_AFTER_SECONDS = 1

export interface HashQueueOptions {
  /** Hashes running at once. */
  concurrency: number
  /** Hashes waiting for a turn; past this a request is refused. */
  queueLimit: number
}

/** HASH_CONCURRENCY: 0 means one less than the cores, leaving one to the event loop (at least 1). */
export function hashConcurrencyOf (setting: number, cores: number): number {
  return setting > 0 ? setting : Math.max(1, cores - 1)
}

export class HashQueue {
  #running = 0
  readonly #waiting: Array<() => void> = []

  constructor (readonly options: HashQueueOptions) {}

  get running (): number {
    return this.#running
  }

  get waiting (): number {
    return this.#waiting.length
  }

  /** Throws the 503 ApiError when a task given now would be refused. */
  admit (): void {
    if (this.#running >= this.options.concurrency && this.#waiting.length >= this.options.queueLimit) throw serviceUnavailable(HASH_RETRY_AFTER_SECONDS)
  }

  /** Runs `work` when a slot is free; throws the 503 ApiError at once when the queue is full. */
  async run<T> (work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.options.concurrency) {
      this.admit()
      // The slot is handed over by the finishing task: #running does not change.
      await new Promise<void>(resolve => this.#waiting.push(resolve))
    } else {
      this.#running++
    }
    try {
      return await work()
    } finally {
      const next = this.#waiting.shift()
      if (next === undefined) this.#running--
      else next()
    }
  }
}

/** The hasher with every hash and verification (Django's hashes too) taking a turn in `queue`. */
export function queuedHasher (hasher: PasswordHasher, queue: HashQueue): PasswordHasher {
  return {
    hash: async password => await queue.run(() => hasher.hash(password)),
    verify: async (hash, password) => await queue.run(() => hasher.verify(hash, password)),
    needsRehash: hash => hasher.needsRehash(hash),
    spendVerification: async password => await queue.run(() => hasher.spendVerification(password)),
    admit: () => queue.admit()
  }
}
