import { sql, type SQL } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'
import type { Db } from './index.js'

/** db.execute answers PGlite's { rows } or postgres.js's array of rows. */
export const rowsOf = <T>(result: unknown): T[] =>
  /* c8 ignore next: the array is postgres.js's (the PostgreSQL lane) */
  Array.isArray(result) ? result as T[] : (result as { rows: T[] }).rows

export interface BatchOptions {
  /** Rows per statement. */
  batchSize?: number
  /** Waits between two batches; the default sleeps. Given the time the batch before took (ms). */
  pause?: (batchMs: number) => Promise<void>
  /** Once aborted, no batch starts: the count so far is answered (the server's pruning, when it closes). */
  signal?: AbortSignal
}

const sleep = async (ms: number) => await new Promise<void>(resolve => setTimeout(resolve, ms))

/**
 * Deletes the rows of `table` that `where` matches, a batch at a time, and
 * answers how many went. Each batch is a statement of its own, so no lock is
 * held for long; its rows are found by their physical address (`ctid`, a TID
 * scan: no index lookup per row) and only their count comes back. Between two
 * batches it waits as long as the batch took, so a large flush uses at most
 * about half of a database core and takes about twice as long, rather than
 * taking a whole core from the requests it runs beside (bench:scale measures
 * refresh's p99 during flushexpiredtokens).
 */
export async function deleteInBatches (db: Db, table: PgTable, where: SQL, { batchSize = 5000, pause = sleep, signal }: BatchOptions = {}): Promise<number> {
  let total = 0
  for (;;) {
    if (signal?.aborted === true) return total
    const started = performance.now()
    const { deleted } = rowsOf<{ deleted: number }>(await db.execute(sql`with deleted as (
        delete from ${table} where ctid = any(array(select ctid from ${table} where ${where} limit ${batchSize}))
        returning 1
      ) select count(*)::int as deleted from deleted`))[0]!
    total += deleted
    if (deleted < batchSize) return total
    await pause(performance.now() - started)
  }
}
