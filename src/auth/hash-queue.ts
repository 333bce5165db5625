import { serviceUnavailable } from '../errors.js'
import type { PasswordHasher } from './passwords.js'

// argon2 runs on libuv's thread pool, off the event loop, but it takes whole
// cores: left unbounded, a login flood queues hundreds of hashes (each ~20 ms
// of CPU and 19 MiB of memory) and the cores the event loop needs for token
// refresh and protected routes go to hashing. Here at most `concurrency`
// hashes run at once, at most `queueLimit` wait, and the next one is refused
// with a 503 and Retry-After.
//
// The refusal waits about `refusalDelayMs` (HASH_QUEUE_REFUSAL_DELAY) before
// it is sent. A flooding client sends its next login as soon as it has an answer, so
// refusing at once made the event loop answer thousands of 503s a second
// (each a whole request: parsing, routing, the error body), a share of its
// time that grows with the flood's connections, not with anything Tessera
// controls: during a flood of 200 connections the protected route kept 0.2 of
// its throughput. Held for a second, each connection costs one answer a
// second. A refusal waiting holds only a timer and its request; past
// `maxDelayed` of them, the next ones are refused at once.

/** Seconds a refused client is told to wait: about what the queue takes to drain at the default sizes. */
export const HASH_RETRY_AFTER_SECONDS = 1

export interface HashQueueOptions {
  /** Hashes running at once. */
  concurrency: number
  /** Hashes waiting for a turn; past this a request is refused. */
  queueLimit: number
  /** Milliseconds a refused request waits for its 503, on average (0: at once). */
  refusalDelayMs?: number
  /** Refusals that may wait at once; past this they are sent at once. */
  maxDelayed?: number
}

/** Refusals held at once, at most, by default: a flood's connections, many times over. */
export const MAX_DELAYED_REFUSALS = 4096

/** HASH_CONCURRENCY: 0 means one less than the cores, leaving one to the event loop (at least 1). */
export function hashConcurrencyOf (setting: number, cores: number): number {
  return setting > 0 ? setting : Math.max(1, cores - 1)
}

export class HashQueue {
  #running = 0
  #delayed = 0
  readonly #waiting: Array<() => void> = []

  constructor (readonly options: HashQueueOptions) {}

  get running (): number {
    return this.#running
  }

  get waiting (): number {
    return this.#waiting.length
  }

  /** Refusals waiting for their 503. */
  get delayed (): number {
    return this.#delayed
  }

  /** Whether a task given now would be refused. */
  get #full (): boolean {
    return this.#running >= this.options.concurrency && this.#waiting.length >= this.options.queueLimit
  }

  /** Rejects with the 503 ApiError, after `refusalDelayMs`, when a task given now would be refused. */
  async admit (): Promise<void> {
    if (this.#full) await this.#refuse()
  }

  /** Rejects with the 503 ApiError, after about `refusalDelayMs` while fewer than `maxDelayed` refusals wait. */
  async #refuse (): Promise<never> {
    const { refusalDelayMs = 0, maxDelayed = MAX_DELAYED_REFUSALS } = this.options
    if (refusalDelayMs > 0 && this.#delayed < maxDelayed) {
      this.#delayed++
      // Between half and one and a half times the delay: a flood's refusals, made together, would
      // otherwise come due together and take the event loop for one long turn every second.
      await new Promise(resolve => setTimeout(resolve, refusalDelayMs * (0.5 + Math.random())))
      this.#delayed--
    }
    throw serviceUnavailable(HASH_RETRY_AFTER_SECONDS)
  }

  /** Runs `work` when a slot is free; rejects with the 503 ApiError when the queue is full. */
  async run<T> (work: () => Promise<T>): Promise<T> {
    // Decided without an await in between: a task finishing meanwhile would find no waiter to hand its slot to.
    if (this.#full) await this.#refuse()
    if (this.#running >= this.options.concurrency) {
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
    admit: async () => await queue.admit()
  }
}
