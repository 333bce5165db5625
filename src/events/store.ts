import { and, desc, eq, lt, or, sql, type SQL } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { deleteInBatches } from '../db/batches.js'
import { preparedStatement } from '../db/prepared.js'
import { securityEvents, type SecurityEventRow } from '../db/schema.js'

// The event log's repository: plain functions over a Db.

export type NewSecurityEventRow = typeof securityEvents.$inferInsert

// A batch as one JSON parameter, one statement whatever its size: Drizzle's
// multi-row insert renders every value of every row as a parameter (under
// refresh load, a few thousand events a second, that rendering was 7% of the
// server's CPU).
const insertBatch = preparedStatement('insert_security_events', sql`insert into security_events (at, type, user_id, session_id, ip, user_agent, detail)
  select at, type, "userId", "sessionId", ip, "userAgent", detail
  from json_to_recordset(${sql.placeholder('rows')}::json)
    as event (at timestamptz, type varchar, "userId" int, "sessionId" varchar, ip varchar, "userAgent" varchar, detail jsonb)`)

export async function insertSecurityEvents (db: Db, rows: NewSecurityEventRow[]): Promise<void> {
  await insertBatch(db, { rows: JSON.stringify(rows) })
}

export interface EventFilter { userId?: number, type?: string }

/** Where a page starts: after the event at this time with this id (newest first). */
export interface EventPosition { at: Date, id: number }

/** A page of events, newest first (time, then id), starting after `after`; one more than `limit` tells there is a next page. */
export async function listSecurityEvents (db: Db, filter: EventFilter, after: EventPosition | null, limit: number): Promise<SecurityEventRow[]> {
  const conditions: SQL[] = []
  if (filter.userId !== undefined) conditions.push(eq(securityEvents.userId, filter.userId))
  if (filter.type !== undefined) conditions.push(eq(securityEvents.type, filter.type))
  if (after !== null) {
    conditions.push(or(lt(securityEvents.at, after.at), and(eq(securityEvents.at, after.at), lt(securityEvents.id, after.id)))!)
  }
  return await db.select().from(securityEvents).where(and(...conditions))
    .orderBy(desc(securityEvents.at), desc(securityEvents.id)).limit(limit + 1)
}

/** Deletes the events older than `before` (SECURITY_EVENT_RETENTION), a batch at a time so that no lock is held for long. */
export async function deleteSecurityEventsBefore (db: Db, before: Date, signal?: AbortSignal): Promise<number> {
  return await deleteInBatches(db, securityEvents, lt(securityEvents.at, before), { signal })
}
