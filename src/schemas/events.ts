import { Type } from '@sinclair/typebox'
import { SECURITY_EVENT_TYPES } from '../events/types.js'
import { Page, PageQuery } from './pagination.js'

export const SecurityEventView = Type.Object({
  id: Type.Integer(),
  type: Type.String({ description: `One of ${SECURITY_EVENT_TYPES.join(', ')}.`, examples: ['login_succeeded'] }),
  at: Type.String({ format: 'date-time', description: 'When it happened.' }),
  user_id: Type.Union([Type.Integer(), Type.Null()], { description: 'The user it is about (null for a login with an unknown username).' }),
  session_id: Type.Union([Type.String(), Type.Null()], { description: 'The session it is about, when there is one.' }),
  ip: Type.String({ description: 'The client address of the request (may be empty).' }),
  user_agent: Type.String({ description: 'The User-Agent of the request (may be empty).' }),
  detail: Type.Object({}, {
    additionalProperties: true,
    description: 'Small facts, never a password or a token: `scope` of a logout, `reason` of a failed login, ' +
      '`fields` an admin changed, `by` (the id of the user who made a change).'
  })
})

export const EventPage = Page(SecurityEventView, 'A page of security events, newest first.')

export const OwnEventsQuery = Type.Object({ ...PageQuery })

export const EventTypeParam = Type.Union(SECURITY_EVENT_TYPES.map(type => Type.Literal(type)), { description: 'Only events of this type.' })

export const AdminEventsQuery = Type.Object({
  user: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,9}$', description: 'Only events about this user id.' })),
  type: Type.Optional(EventTypeParam),
  ...PageQuery
})
