import { invalidCursor } from './errors.js'

// Cursor pagination: a page ends with an opaque `next` cursor (base64url of
// where it stopped) that the client sends back as `cursor`. Only cursors this
// server made decode: anything else is a 400 `{"detail":"Invalid cursor"}`.

export const DEFAULT_PAGE_SIZE = 50
export const MAX_PAGE_SIZE = 200

const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64url')

/** The text a cursor stands for, when it is one this server could have made (canonical base64url). */
function decode (cursor: string, pattern: RegExp): RegExpExecArray {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const match = pattern.exec(text)
  if (match === null || encode(text) !== cursor) throw invalidCursor()
  return match
}

const MAX_INT = 2_147_483_647

/** Users are paged by id (ascending). */
export const userCursor = {
  encode: (id: number) => encode(`u${id}`),
  decode (cursor: string): number {
    const id = Number(decode(cursor, /^u([1-9]\d{0,9})$/)[1])
    if (id > MAX_INT) throw invalidCursor()
    return id
  }
}

/** Events are paged newest first: by time (milliseconds), then id. */
export const eventCursor = {
  encode: (at: Date, id: number) => encode(`e${at.getTime()}.${id}`),
  decode (cursor: string): { at: Date, id: number } {
    const match = decode(cursor, /^e(\d{1,15})\.([1-9]\d{0,15})$/)
    return { at: new Date(Number(match[1])), id: Number(match[2]) }
  }
}

/** A page: the rows (one more than the limit was read) and the cursor of the next page, if any. */
export function pageOf<Row, Out> (rows: Row[], limit: number, cursorOf: (row: Row) => string, view: (row: Row) => Out): { next: string | null, results: Out[] } {
  const page = rows.slice(0, limit)
  return { next: rows.length > limit ? cursorOf(page[page.length - 1]!) : null, results: page.map(view) }
}
