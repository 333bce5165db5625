import type { Db } from '../db/index.js'
import { insertSecurityEvents, type NewSecurityEventRow } from './store.js'
import type { SecurityEvent } from './types.js'

// Recording an event must not add a database round trip to a login or a
// refresh (their cost is benchmarked against the bare work). Events are kept
// in memory and written in batches: on a short timer, when the buffer fills,
// before a read of the log, and at close. The price: a crash (not a graceful
// stop) loses the events of the last FLUSH_INTERVAL_MS, and, while the
// database is unreachable, events beyond MAX_BUFFERED are dropped (counted and
// logged) rather than letting memory grow.

export const FLUSH_INTERVAL_MS = 1000
export const MAX_BUFFERED = 10_000

const USER_AGENT_MAX = 512
const IP_MAX = 45

export interface RecorderOptions {
  flushIntervalMs?: number
  maxBuffered?: number
  /** Told of a failed write or of dropped events; never throws. */
  onProblem?: (message: string, error?: unknown) => void
  now?: () => Date
}

export class SecurityEventRecorder {
  #buffer: NewSecurityEventRow[] = []
  #flushing: Promise<void> = Promise.resolve()
  #dropped = 0
  readonly #timer: NodeJS.Timeout
  readonly #maxBuffered: number
  readonly #onProblem: (message: string, error?: unknown) => void
  readonly #now: () => Date

  constructor (private readonly db: Db, options: RecorderOptions = {}) {
    this.#maxBuffered = options.maxBuffered ?? MAX_BUFFERED
    this.#onProblem = options.onProblem ?? (() => {})
    this.#now = options.now ?? (() => new Date())
    // A flush never rejects: a failed write is reported and its events kept.
    this.#timer = setInterval(async () => await this.flush(), options.flushIntervalMs ?? FLUSH_INTERVAL_MS).unref()
  }

  /** Events waiting to be written. */
  get pending (): number {
    return this.#buffer.length
  }

  /** Keeps an event for the next write; never waits for the database. */
  record (event: SecurityEvent): void {
    if (this.#buffer.length >= this.#maxBuffered) {
      this.#dropped++
      return
    }
    const userAgent = event.request?.headers['user-agent']
    this.#buffer.push({
      at: this.#now(),
      type: event.type,
      userId: event.userId ?? null,
      sessionId: event.sessionId ?? null,
      ip: (event.request?.ip ?? '').slice(0, IP_MAX),
      userAgent: (typeof userAgent === 'string' ? userAgent : '').slice(0, USER_AGENT_MAX),
      detail: event.detail ?? {}
    })
    // Full: written now, not at the next tick (a flush never rejects: nothing to catch).
    if (this.#buffer.length >= this.#maxBuffered) this.flush()
  }

  /** Writes every event recorded so far; resolves once they are in the database. */
  async flush (): Promise<void> {
    this.#flushing = this.#flushing.then(async () => await this.#writeBuffered())
    await this.#flushing
  }

  async #writeBuffered (): Promise<void> {
    if (this.#dropped > 0) {
      this.#onProblem(`security event log: ${this.#dropped} events dropped (the buffer was full)`)
      this.#dropped = 0
    }
    if (this.#buffer.length === 0) return
    const batch = this.#buffer
    this.#buffer = []
    try {
      await insertSecurityEvents(this.db, batch)
    } catch (error) {
      // Kept for the next attempt, within the bound.
      const kept = [...batch, ...this.#buffer]
      this.#dropped += Math.max(0, kept.length - this.#maxBuffered)
      this.#buffer = kept.slice(0, this.#maxBuffered)
      this.#onProblem('security event log: write failed, will retry', error)
    }
  }

  /** Stops the timer and writes what is left. */
  async close (): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
  }
}
