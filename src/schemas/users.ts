import { Type } from '@sinclair/typebox'
import { PASSWORD_MAX_LENGTH } from '../auth/password-validation.js'
import { EMAIL_MAX_LENGTH, USERNAME_MAX_LENGTH } from '../users/fields.js'

export const RegisterBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: USERNAME_MAX_LENGTH, format: 'username', description: 'Letters, digits and @/./+/-/_; unique without regard to case.' }),
  email: Type.Optional(Type.String({ maxLength: EMAIL_MAX_LENGTH, format: 'email', description: 'May be omitted or blank.' })),
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH, format: 'password', description: 'Checked by Django\'s four password validators.' })
}, { examples: [{ username: 'alice', email: 'alice@example.com', password: 'correct horse battery staple' }] })

export const RegisteredUser = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Type.String()
}, { description: 'The user created.', examples: [{ id: 1, username: 'alice', email: 'alice@example.com' }] })

const Timestamp = (description: string) => Type.String({ format: 'date-time', description })

export const CurrentUser = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  is_staff: Type.Boolean(),
  is_superuser: Type.Boolean(),
  date_joined: Timestamp('When the account was created.'),
  last_login: Type.Union([Timestamp('The last login, when UPDATE_LAST_LOGIN is on.'), Type.Null()])
}, { description: 'The user the access token belongs to.' })
