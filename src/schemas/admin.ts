import { Type } from '@sinclair/typebox'
import { PASSWORD_MAX_LENGTH } from '../auth/password-validation.js'
import { EMAIL_MAX_LENGTH, USERNAME_MAX_LENGTH } from '../users/fields.js'
import { Page, PageQuery } from './pagination.js'

const Timestamp = (description: string) => Type.String({ format: 'date-time', description })
const NAME_MAX_LENGTH = 150
const Flag = (description: string) => Type.Optional(Type.Boolean({ description }))
const Name = (description: string) => Type.Optional(Type.String({ maxLength: NAME_MAX_LENGTH, description }))
const Email = Type.Optional(Type.String({ maxLength: EMAIL_MAX_LENGTH, format: 'email', description: 'May be blank.' }))
const Password = (description: string) => Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH, format: 'password', description })

export const AdminUser = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  is_active: Type.Boolean(),
  is_staff: Type.Boolean(),
  is_superuser: Type.Boolean(),
  date_joined: Timestamp('When the account was created.'),
  last_login: Type.Union([Timestamp('The last login, when UPDATE_LAST_LOGIN is on.'), Type.Null()])
}, { description: 'A user, as staff see it. The password hash never leaves the server.' })

export const AdminUserPage = Page(AdminUser, 'A page of users, by id.')

const BooleanText = (description: string) => Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description }))

export const UserListQuery = Type.Object({
  username: Type.Optional(Type.String({ maxLength: USERNAME_MAX_LENGTH, description: 'Users whose username contains this, without regard to case.' })),
  email: Type.Optional(Type.String({ maxLength: EMAIL_MAX_LENGTH, description: 'Users whose email contains this, without regard to case.' })),
  is_active: BooleanText('Only active (`true`) or inactive (`false`) users.'),
  is_staff: BooleanText('Only staff (`true`) or non-staff (`false`) users.'),
  ...PageQuery
})

export const UserParams = Type.Object({
  id: Type.String({ pattern: '^[1-9][0-9]{0,9}$', description: 'A user id.' })
})

export const AdminCreateUserBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: USERNAME_MAX_LENGTH, format: 'username', description: 'Letters, digits and @/./+/-/_; unique without regard to case.' }),
  email: Email,
  password: Password('Checked by Django\'s four password validators.'),
  first_name: Name('Given name.'),
  last_name: Name('Family name.'),
  is_active: Flag('Default true.'),
  is_staff: Flag('Default false. Staff may use the admin API.'),
  is_superuser: Flag('Default false. Only a superuser may set it.')
}, { examples: [{ username: 'bob', email: 'bob@example.com', password: 'violet otter lantern 42', is_staff: false }] })

export const AdminUpdateUserBody = Type.Object({
  email: Email,
  first_name: Name('Given name.'),
  last_name: Name('Family name.'),
  is_active: Flag('false deactivates the user: every session ends on every instance at once.'),
  is_staff: Flag('false takes the admin API away at once.'),
  is_superuser: Flag('Only a superuser may change it.')
}, { examples: [{ is_active: false }] })

export const AdminSetPasswordBody = Type.Object({
  password: Password('The new password, checked by Django\'s four password validators. Every session of the user ends.')
}, { examples: [{ password: 'violet otter lantern 42' }] })
