import argon2 from 'argon2'
import { createSigner } from 'fast-jwt'
import { sql } from 'drizzle-orm'
import type { Db } from '../../src/db/index.js'
import { newJti } from '../../src/tokens/claims.js'
import { rowsOf as rowsOfDb } from '../../src/db/batches.js'

// What the bench needs in the database, made with set-based SQL, and tokens
// minted with the server's key (as Tessera mints them: SimpleJWT's claims,
// then sid) so that no login is spent on them.

export const BENCH_PASSWORD = 'correct-horse-battery-staple'
export const BENCH_SIGNING_KEY = 'bench-signing-key-that-is-long-enough-0123456789'

export interface Argon2Setting { memoryKib: number, iterations: number, parallelism: number }

/** `count` users bench1…benchN with one argon2id hash of BENCH_PASSWORD; their ids. */
export async function seedUsers (db: Db, count: number, argon: Argon2Setting, prefix = 'bench'): Promise<number[]> {
  const hash = await argon2.hash(BENCH_PASSWORD, { type: argon2.argon2id, memoryCost: argon.memoryKib, timeCost: argon.iterations, parallelism: argon.parallelism })
  await db.execute(sql`insert into users (username, email, password)
    select ${prefix} || g, '', ${hash} from generate_series(1, ${count}::int) as g`)
  const rows = await db.execute(sql`select id from users where username like ${prefix + '%'} order by id`)
  return rowsOf(rows).map(row => Number(row.id))
}

/** src/db/batches.ts's rowsOf, its rows as records. */
export const rowsOf = (result: unknown): Array<Record<string, unknown>> => rowsOfDb<Record<string, unknown>>(result)

const sign = createSigner({ key: BENCH_SIGNING_KEY, algorithm: 'HS256' })
const nowSeconds = () => Math.floor(Date.now() / 1000)

/** Access tokens (300 s) of distinct sessions, for the given users in turn. */
export function accessTokens (userIds: number[], count: number): string[] {
  const now = nowSeconds()
  return Array.from({ length: count }, (_, i) => sign({
    token_type: 'access', exp: now + 300, iat: now, jti: newJti(), user_id: userIds[i % userIds.length], sid: newJti()
  }))
}

/**
 * `count` refresh tokens, each the first of a session of its own, recorded as
 * a login records them (a session row and a refresh-token row).
 */
export async function refreshTokens (db: Db, userIds: number[], count: number): Promise<string[]> {
  const now = nowSeconds()
  const records = Array.from({ length: count }, (_, i) => ({ j: newJti(), s: newJti(), u: userIds[i % userIds.length]! }))
  for (let start = 0; start < records.length; start += 20_000) {
    const batch = JSON.stringify(records.slice(start, start + 20_000))
    await db.execute(sql`insert into sessions (id, user_id, created_at, last_used_at, absolute_expires_at)
      select s, u, now(), now(), now() + interval '30 days' from json_to_recordset(${batch}::json) as x(j text, s text, u int)`)
    await db.execute(sql`insert into refresh_tokens (jti, user_id, issued_at, expires_at, session_id)
      select j, u, to_timestamp(${now}), to_timestamp(${now + 86_400}), s from json_to_recordset(${batch}::json) as x(j text, s text, u int)`)
  }
  return records.map(({ j, u }) => sign({ token_type: 'refresh', exp: now + 86_400, iat: now, jti: j, user_id: u }))
}
