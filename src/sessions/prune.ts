import type { Db } from '../db/index.js'
import { deleteSecurityEventsBefore } from '../events/store.js'
import { deleteExpiredRefreshTokens } from '../tokens/refresh-token-store.js'
import { deleteDeadSessions } from './store.js'

// What `flushexpiredtokens` deletes, and the server every SESSION_PRUNE_INTERVAL.

export interface Pruned {
  /** Expired refresh-token records. */
  tokens: number
  /** Sessions that can open nothing any more. */
  sessions: number
  /** Security events older than the retention. */
  events: number
}

/**
 * Deletes the expired refresh tokens first, then the dead sessions (a session
 * is kept while one of its tokens is live, so the tokens deleted first let
 * their sessions go in the same run), then the security events older than
 * `retainedSince`: one after the other, each in paced batches
 * (src/db/batches.ts), so a prune holds one connection of the pool at a time.
 * Once `signal` is aborted no further batch starts.
 */
export async function pruneExpired (db: Db, now: Date, retainedSince: Date, signal?: AbortSignal): Promise<Pruned> {
  const tokens = await deleteExpiredRefreshTokens(db, now, signal)
  const sessions = await deleteDeadSessions(db, now, signal)
  const events = await deleteSecurityEventsBefore(db, retainedSince, signal)
  return { tokens, sessions, events }
}

export interface PruneLog {
  debug: (details: object, message: string) => void
  error: (details: object, message: string) => void
}

/**
 * Runs `prune` every `intervalMs`, each run starting `intervalMs` after the
 * one before has finished: a large backlog may take longer than the interval,
 * and two runs would only compete for the same rows. `close` stops the
 * schedule, aborts the run in progress between two batches and waits for it,
 * so that it ends before the database it uses is closed.
 */
export class PeriodicPrune {
  readonly #stopping = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined

  constructor (
    private readonly prune: (signal: AbortSignal) => Promise<Pruned>,
    private readonly intervalMs: number,
    private readonly log: PruneLog
  ) {}

  start (): void {
    this.#schedule()
  }

  /** Whether a run is in progress. */
  get running (): boolean {
    return this.#running !== undefined
  }

  #schedule (): void {
    if (this.#stopping.signal.aborted) return
    this.#timer = setTimeout(() => this.#run(), this.intervalMs).unref()
  }

  #run (): void {
    this.#running = this.prune(this.#stopping.signal)
      .then(pruned => this.log.debug(pruned, 'pruned dead sessions, expired tokens and old security events'))
      // A failing database: logged, and the next run tries again.
      .catch((err: unknown) => this.log.error({ err }, 'pruning failed'))
      .finally(() => {
        this.#running = undefined
        this.#schedule()
      })
  }

  async close (): Promise<void> {
    this.#stopping.abort()
    clearTimeout(this.#timer)
    await this.#running
  }
}
