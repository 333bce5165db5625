import { Type } from '@sinclair/typebox'
import { PASSWORD_MAX_LENGTH } from '../auth/password-validation.js'

export const LogoutBody = Type.Object({
  scope: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('others'), Type.Literal('global')], {
    description: '`local` (the default): this session. `others`: every other session of the user. `global`: all of them.'
  }))
}, { examples: [{ scope: 'local' }] })

const Timestamp = (description: string) => Type.String({ format: 'date-time', description })

export const SessionView = Type.Object({
  id: Type.String({ description: 'The session id (the `sid` claim of its access tokens).', examples: ['3f0c6d1e9a8b4c2d8e7f6a5b4c3d2e1f'] }),
  created: Timestamp('The login that started it.'),
  last_used: Timestamp('Its last login or refresh.'),
  expires: Timestamp('Its absolute end (REFRESH_TOKEN_ABSOLUTE_LIFETIME after the login): no refresh goes past it.'),
  user_agent: Type.String({ description: 'The User-Agent of the login (may be empty).' }),
  ip: Type.String({ description: 'The address the login came from (may be empty).' }),
  current: Type.Boolean({ description: 'True for the session of the access token making the request.' })
})

export const SessionList = Type.Array(SessionView, { description: 'The caller\'s live sessions, the most recently used first.' })

export const SessionParams = Type.Object({
  id: Type.String({ pattern: '^[0-9a-f]{32}$', description: 'A session id from GET /api/sessions/.' })
})

export const PasswordChangeBody = Type.Object({
  old_password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH, format: 'password' }),
  new_password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH, format: 'password', description: 'Checked by Django\'s four password validators.' })
}, { examples: [{ old_password: 'correct horse battery staple', new_password: 'violet otter lantern 42' }] })

export const NoContent = Type.Null({ description: 'Done: no content.' })
