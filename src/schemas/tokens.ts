import { Type } from '@sinclair/typebox'
import { PASSWORD_MAX_LENGTH } from '../auth/password-validation.js'
import { USERNAME_MAX_LENGTH } from '../users/fields.js'

const Jwt = (description: string) => Type.String({ description, examples: ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...'] })
// Long enough for any token Tessera mints, short enough to refuse a flood.
export const TOKEN_MAX_LENGTH = 4096

export const TokenObtainBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: USERNAME_MAX_LENGTH }),
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH, format: 'password' })
}, { examples: [{ username: 'alice', password: 'correct horse battery staple' }] })

export const TokenPair = Type.Object({
  refresh: Jwt('Refresh token: present it to /api/token/refresh/.'),
  access: Jwt('Access token: send it as `Authorization: Bearer <access>`.')
}, { description: 'A new token pair.' })

export const RefreshBody = Type.Object({
  refresh: Type.String({ minLength: 1, maxLength: TOKEN_MAX_LENGTH })
}, { examples: [{ refresh: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...' }] })

export const RefreshResponse = Type.Object({
  access: Jwt('A new access token.'),
  refresh: Type.Optional(Jwt('The refresh token that replaces the one presented (while rotation is on).'))
}, { description: 'A new access token, and the refresh token that replaces the one presented.' })

export const VerifyBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: TOKEN_MAX_LENGTH })
}, { examples: [{ token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...' }] })

export const Empty = Type.Object({}, { description: 'Done: an empty object.' })
