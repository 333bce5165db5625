import { Type, type TSchema } from '@sinclair/typebox'
import { Detail } from './errors.js'
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../pagination.js'

export const PageQuery = {
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The `next` of the previous page.' })),
  limit: Type.Optional(Type.String({
    pattern: '^([1-9]|[1-9][0-9]|1[0-9][0-9]|200)$',
    description: `Items per page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).`
  }))
}

export const Page = <T extends TSchema>(item: T, description: string) => Type.Object({
  next: Type.Union([Type.String(), Type.Null()], { description: 'The cursor of the next page (pass it as `cursor`), null on the last page.' }),
  results: Type.Array(item)
}, { description })

export const BadQuery = Type.Object(Detail.properties, {
  description: 'A query parameter does not fit (`Invalid value for the query parameter "limit".`), or the cursor is not one this server made (`Invalid cursor`).'
})

export const pageSize = (limit: string | undefined): number => limit === undefined ? DEFAULT_PAGE_SIZE : Number(limit)
