// What an instance keeps in memory to refuse the access tokens of ended
// sessions without a query: the id of every session ended within the last
// ACCESS_TOKEN_LIFETIME, with the time its last access token expires. An
// entry goes once that time has passed (no token of the session can then be
// presented), so the map holds at most the sessions ended in one access-token
// lifetime: about 100 bytes each, 300,000 entries (30 MB) at 1,000 endings a
// second with the default 5 minutes.

/** A change to the revocation state, as published to every instance. */
export interface RevocationMessage {
  /** Sessions ended: [session id, until (seconds since the epoch)]. */
  ended?: Array<[string, number]>
  /** Users whose state (exists, active) changed. */
  users?: number[]
}

export class RevocationState {
  readonly #ended = new Map<string, number>()
  #trusted = false

  readonly #userWatchers: Array<(id: number | 'all') => void> = []

  constructor (private readonly now: () => number) {}

  /** Calls `watcher` with a user's id when their state changed elsewhere, or 'all' when any may have. */
  watchUsers (watcher: (id: number | 'all') => void): void {
    this.#userWatchers.push(watcher)
  }

  private onUserChanged (id: number | 'all'): void {
    for (const watcher of this.#userWatchers) watcher(id)
  }

  get size (): number {
    return this.#ended.size
  }

  /** False from start-up, and after a lost connection, until the state is loaded again. */
  get trusted (): boolean {
    return this.#trusted
  }

  apply (message: RevocationMessage): void {
    const now = this.now()
    for (const [id, until] of message.ended ?? []) {
      if (until > now) this.#ended.set(id, Math.max(until, this.#ended.get(id) ?? 0))
    }
    for (const id of message.users ?? []) this.onUserChanged(id)
  }

  /** True when the session has ended and one of its access tokens may still be live; undefined while not trusted. */
  isEnded (id: string): boolean | undefined {
    const until = this.#ended.get(id)
    if (until !== undefined) {
      if (until > this.now()) return true
      this.#ended.delete(id)
    }
    return this.#trusted ? false : undefined
  }

  /** Stops trusting the state: a change may have been missed. */
  distrust (): void {
    this.#trusted = false
  }

  /** Replaces the state with one read from the database, and trusts it again. */
  reload (ended: Array<[string, number]>): void {
    this.#ended.clear()
    this.apply({ ended })
    // Every cached user state may be stale: drop them all (they are read again on use).
    this.onUserChanged('all')
    this.#trusted = true
  }

  /** Drops the entries whose last access token has expired. */
  prune (): number {
    const now = this.now()
    let dropped = 0
    for (const [id, until] of this.#ended) {
      if (until <= now) {
        this.#ended.delete(id)
        dropped++
      }
    }
    return dropped
  }
}
