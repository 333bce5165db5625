import { createReadStream } from 'node:fs'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { eq, sql } from 'drizzle-orm'
import type { Config } from '../config.js'
import type { Db } from '../db/index.js'
import { users } from '../db/schema.js'
import { withDatabase } from './context.js'
import { CommandFailed, type CommandIo } from './io.js'

// `users:import <file>`: the users of a Django project, from
// `manage.py dumpdata auth.user` (a JSON array) or `--format jsonl` (JSON
// Lines), with their ids and Django's password hashes kept as they are: the
// login verifies those and rehashes to argon2id (src/auth/django-hashes.ts).
//
// Both formats are streamed record by record (readRecords below), never
// loaded whole. The file is read twice: first every record is checked, so a
// malformed file changes nothing; then the records are inserted. A record
// whose id and username are already there is left alone (a second import
// changes nothing); one whose id or username belongs to another user is
// reported, never overwritten.

const USAGE = 'usage: users:import <file>   (the output of manage.py dumpdata auth.user, JSON or JSON Lines)'
const PROGRESS_EVERY = 100

const DjangoUser = Type.Object({
  model: Type.Literal('auth.user'),
  pk: Type.Integer({ minimum: 1, maximum: 2147483647 }),
  fields: Type.Object({
    password: Type.String({ maxLength: 255 }),
    username: Type.String({ minLength: 1, maxLength: 150 }),
    email: Type.String({ maxLength: 254 }),
    first_name: Type.String({ maxLength: 150 }),
    last_name: Type.String({ maxLength: 150 }),
    is_active: Type.Boolean(),
    is_staff: Type.Boolean(),
    is_superuser: Type.Boolean(),
    last_login: Type.Union([Type.String(), Type.Null()]),
    date_joined: Type.String()
  })
})
type DjangoRecord = Static<typeof DjangoUser>

// Django's DjangoJSONEncoder: ISO 8601, with a Z or an offset when USE_TZ is
// on; naive times (USE_TZ off) are taken as UTC.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$/

function parseDate (text: string, field: string): Date {
  const match = DATE_TIME.exec(text)
  const date = match === null ? null : new Date(match[3] === undefined ? `${text}Z` : text)
  if (date === null || Number.isNaN(date.getTime())) throw new Error(`fields.${field} is not a date and time: ${JSON.stringify(text)}`)
  return date
}

interface Record_ { line: number, text: string }

/**
 * The top-level objects of a JSON array or of JSON Lines, each with the line
 * it starts on, read chunk by chunk. Between objects only white space (and,
 * in an array, its brackets and commas) may appear.
 */
async function * readRecords (path: string): AsyncGenerator<Record_> {
  let line = 1
  let depth = 0
  let inString = false
  let escaped = false
  let current = ''
  let start = 0
  let array: boolean | undefined
  let closed = false
  const unexpected = (char: string) => new CommandFailed(`line ${line}: malformed record: unexpected ${JSON.stringify(char)}`)

  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    for (const char of chunk as string) {
      if (depth > 0) {
        current += char
        if (inString) {
          if (escaped) escaped = false
          else if (char === '\\') escaped = true
          else if (char === '"') inString = false
        } else if (char === '"') inString = true
        else if (char === '{' || char === '[') depth++
        else if (char === '}' || char === ']') {
          if (--depth === 0) {
            yield { line: start, text: current }
            current = ''
          }
        }
      } else if (char === '{' && !closed) {
        array ??= false
        depth = 1
        start = line
        current = char
      } else if (char === '[' && array === undefined) array = true
      else if ((char === ',' || char === ']') && array === true && !closed) closed = char === ']'
      else if (!/\s/.test(char)) throw unexpected(char)
      if (char === '\n') line++
    }
  }
  if (depth > 0) throw new CommandFailed(`line ${start}: malformed record: the file ends inside it`)
  if (array === true && !closed) throw new CommandFailed(`line ${line}: malformed file: the JSON array is not closed`)
}

function parseRecord ({ line, text }: Record_): DjangoRecord & { lastLogin: Date | null, dateJoined: Date } {
  try {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw new Error(`not JSON (${(error as Error).message})`)
    }
    if (!Value.Check(DjangoUser, value)) {
      const first = Value.Errors(DjangoUser, value).First()!
      throw new Error(`${first.path.slice(1).replaceAll('/', '.')}: ${first.message}`)
    }
    return {
      ...value,
      lastLogin: value.fields.last_login === null ? null : parseDate(value.fields.last_login, 'last_login'),
      dateJoined: parseDate(value.fields.date_joined, 'date_joined')
    }
  } catch (error) {
    throw new CommandFailed(`line ${line}: malformed record: ${(error as Error).message}`)
  }
}

type Outcome = 'imported' | 'present' | { conflict: string }

async function importOne (db: Db, user: ReturnType<typeof parseRecord>): Promise<Outcome> {
  const { fields } = user
  const inserted = await db.insert(users).values({
    id: user.pk,
    username: fields.username,
    email: fields.email,
    password: fields.password,
    firstName: fields.first_name,
    lastName: fields.last_name,
    isActive: fields.is_active,
    isStaff: fields.is_staff,
    isSuperuser: fields.is_superuser,
    lastLogin: user.lastLogin,
    dateJoined: user.dateJoined
  }).onConflictDoNothing().returning({ id: users.id })
  if (inserted.length > 0) return 'imported'

  const [sameId] = await db.select({ username: users.username }).from(users).where(eq(users.id, user.pk))
  if (sameId !== undefined) {
    return sameId.username.toLowerCase() === fields.username.toLowerCase()
      ? 'present'
      : { conflict: `id ${user.pk} (${JSON.stringify(fields.username)}) belongs to ${JSON.stringify(sameId.username)} here` }
  }
  const [sameName] = await db.select({ id: users.id, username: users.username }).from(users)
    .where(sql`lower(${users.username}) = lower(${fields.username})`)
  return { conflict: `username ${JSON.stringify(fields.username)} (id ${user.pk}) is taken here by id ${sameName!.id}` }
}

/** Moves the users' identity sequence above the highest id, so that registrations continue after the imported ids. */
async function advanceIdSequence (db: Db): Promise<void> {
  await db.execute(sql`
    select setval(pg_get_serial_sequence('users', 'id'),
      greatest(max(id), coalesce(pg_sequence_last_value(pg_get_serial_sequence('users', 'id')::regclass), 0)))
    from users having max(id) is not null`)
}

export async function importUsers (argv: string[], io: CommandIo, config: Config): Promise<void> {
  if (argv.length !== 1 || argv[0]!.startsWith('--')) throw new CommandFailed(USAGE)
  const path = argv[0]!
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true

  let total = 0
  try {
    for await (const record of readRecords(path)) {
      parseRecord(record)
      total++
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== undefined) throw new CommandFailed(`cannot read ${path}: ${(error as Error).message}`)
    throw error
  }

  const counts = { imported: 0, present: 0, conflicts: 0 }
  await withDatabase(config, async database => {
    let done = 0
    for await (const record of readRecords(path)) {
      const outcome = await importOne(database.db, parseRecord(record))
      if (typeof outcome === 'string') counts[outcome]++
      else {
        counts.conflicts++
        io.stderr.write(`${tty ? '\r\x1b[K' : ''}line ${record.line}: not imported: ${outcome.conflict}\n`)
      }
      if (tty && ++done % PROGRESS_EVERY === 0) io.stderr.write(`\rimporting: ${done} of ${total}`)
    }
    if (tty && total >= PROGRESS_EVERY) io.stderr.write('\r\x1b[K')
    if (counts.imported > 0) await advanceIdSequence(database.db)
  })
  io.stdout.write(`${total} user${total === 1 ? '' : 's'} read: ${counts.imported} imported, ${counts.present} already present, ${counts.conflicts} not imported (conflicts).\n`)
}
