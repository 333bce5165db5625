// Tokens whose signature has been checked, with their payload, so that a
// token presented again (every request of a client, for five minutes) is not
// decoded, parsed, checked for duplicate members and HMAC'd again: a Map
// lookup by the token's text instead. Only what the signature proves is kept;
// everything that can change (expiry, the session, the user) is checked on
// every request by the caller, as for a token seen for the first time.
//
// Bounded: past `maxSize` entries the oldest goes (insertion order, no
// reordering on a hit: a hot token evicted is verified once more). An entry
// also goes when its token has expired, and all of them when the key set
// changes (a retired key verifies nothing any more). Failures are never kept,
// and neither are refresh tokens.

interface Entry {
  payload: Readonly<Record<string, unknown>>
  /** `exp`, seconds since the epoch, or Infinity for a token without one (checkClaims refuses it anyway). */
  expiresAt: number
}

export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>()

  constructor (readonly maxSize: number, readonly now: () => number) {}

  get size (): number {
    return this.#entries.size
  }

  /** The payload of a token verified before and not yet expired. */
  get (token: string): Readonly<Record<string, unknown>> | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.now()) {
      this.#entries.delete(token)
      return undefined
    }
    return entry.payload
  }

  /** Keeps a verified token's payload (frozen: every request shares it). */
  set (token: string, payload: Record<string, unknown>): Readonly<Record<string, unknown>> {
    const frozen = Object.freeze(payload)
    // A refresh token is presented once (rotation blacklists it) and its route queries the database anyway:
    // kept, it would only push access tokens out.
    if (this.maxSize === 0 || payload.token_type === 'refresh') return frozen
    const exp = payload.exp
    this.#entries.set(token, { payload: frozen, expiresAt: typeof exp === 'number' ? exp : Infinity })
    if (this.#entries.size > this.maxSize) this.#entries.delete(this.#entries.keys().next().value!)
    return frozen
  }

  clear (): void {
    this.#entries.clear()
  }
}
