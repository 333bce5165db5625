import type { SQL } from 'drizzle-orm'
import { PgDialect, type PgPreparedQuery, type PreparedQueryConfig } from 'drizzle-orm/pg-core'
import type { Db } from './index.js'

const dialect = new PgDialect()

/**
 * A raw statement rendered to SQL once, its values given as placeholders
 * (`sql.placeholder('name')`) at each call, and sent as a named prepared
 * statement. Drizzle sends `db.execute()` and its query builders' statements
 * unnamed unless they are `.prepare()`d, and postgres.js then describes an
 * unnamed statement with parameters before binding it: two round trips, the
 * statement parsed and planned every time. Named, postgres.js parses it once
 * per connection and binds and executes it in one round trip (PGlite runs it
 * as any other). For the hot statements only: each distinct text stays
 * prepared on every connection.
 */
export function preparedStatement (name: string, query: SQL): (db: Db, values: Record<string, unknown>) => Promise<unknown> {
  const rendered = dialect.sqlToQuery(query)
  const byDb = new WeakMap<Db, PgPreparedQuery<PreparedQueryConfig>>()
  return async (db, values) => {
    let prepared = byDb.get(db)
    if (prepared === undefined) byDb.set(db, prepared = db._.session.prepareQuery(rendered, undefined, name, false))
    return await prepared.execute(values)
  }
}
