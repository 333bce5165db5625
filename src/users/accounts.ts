import { validatePassword } from '../auth/password-validation.js'
import type { PasswordHasher } from '../auth/passwords.js'
import type { Db } from '../db/index.js'
import { endSessions, publishUserChanged, type SessionDeps } from '../sessions/service.js'
import type { User } from '../db/schema.js'
import { fieldErrors, userNotFound, type FieldErrors } from '../errors.js'
import { normalizeEmail, normalizeUsername, USERNAME_TAKEN } from './fields.js'
import type { UserStatusCache } from './status-cache.js'
import { deleteUserById, findUserById, findUserByUsername, insertUser, isUsernameTaken, setActive, setLastLogin, setPasswordHash } from './store.js'

export interface AccountDeps {
  db: Db
  hasher: PasswordHasher
  cache: UserStatusCache
  sessions: SessionDeps
}

/**
 * Django's ModelBackend.authenticate: the user when the password is right and
 * the account active, else null. An unknown username still spends one
 * verification, so the time taken does not tell which usernames exist.
 */
export async function authenticateUser (deps: AccountDeps, username: string, password: string): Promise<User | null> {
  const attempt = await attemptLogin(deps, username, password)
  return 'user' in attempt ? attempt.user : null
}

/** Why a login failed, for the event log (the client gets the same 401 whatever the reason). */
export type LoginFailure = { reason: 'unknown_user' } | { reason: 'wrong_password' | 'inactive', userId: number }

/** authenticateUser, telling why a login failed. */
export async function attemptLogin (deps: AccountDeps, username: string, password: string): Promise<{ user: User } | LoginFailure> {
  // A login flood past the hash queue is refused before its query.
  await deps.hasher.admit()
  const user = await findUserByUsername(deps.db, normalizeUsername(username))
  if (user === undefined) {
    await deps.hasher.spendVerification(password)
    return { reason: 'unknown_user' }
  }
  if (!await deps.hasher.verify(user.password, password)) return { reason: 'wrong_password', userId: user.id }
  if (!user.isActive) return { reason: 'inactive', userId: user.id }
  // As Django does when its hasher's parameters are raised.
  if (deps.hasher.needsRehash(user.password)) {
    await setPasswordHash(deps.db, user.id, await deps.hasher.hash(password))
  }
  return { user }
}

export async function recordLogin (deps: AccountDeps, user: User, at: Date): Promise<void> {
  await setLastLogin(deps.db, user.id, at)
}

export interface Registration { username?: string, email?: string, password?: string }

export interface NewUserOptions {
  isStaff?: boolean
  isSuperuser?: boolean
  isActive?: boolean
  firstName?: string
  lastName?: string
  /** createsuperuser lets a person at the terminal overrule the password validators, as Django's does. */
  skipPasswordValidation?: boolean
}

const REGISTRATION_FIELDS = ['username', 'email', 'password'] as const

function inFieldOrder (errors: FieldErrors): FieldErrors {
  const ordered: FieldErrors = {}
  for (const field of REGISTRATION_FIELDS) if (errors[field] !== undefined) ordered[field] = errors[field]
  return ordered
}

/**
 * POST /register/: DRF's field errors first (given, from the body's schema,
 * plus the unique username, which needs the database), then Django's password
 * validators, then the insert.
 */
export async function registerUser (deps: AccountDeps, input: Registration, errors: FieldErrors = {}, options: NewUserOptions = {}): Promise<User> {
  const found = { ...errors }
  const username = input.username === undefined ? undefined : normalizeUsername(input.username)
  if (username !== undefined && await isUsernameTaken(deps.db, username)) {
    found.username = [USERNAME_TAKEN]
  }
  if (Object.keys(found).length > 0) throw fieldErrors(inFieldOrder(found))

  // Past the field checks, both are present (the schema requires them).
  const password = input.password!
  const email = normalizeEmail(input.email ?? '')
  const problems = options.skipPasswordValidation === true ? [] : validatePassword(password, { username: username!, email })
  if (problems.length > 0) throw fieldErrors({ password: problems })

  const user = await insertUser(deps.db, {
    username: username!,
    email,
    password: await deps.hasher.hash(password),
    isStaff: options.isStaff ?? false,
    isSuperuser: options.isSuperuser ?? false,
    isActive: options.isActive ?? true,
    firstName: options.firstName ?? '',
    lastName: options.lastName ?? ''
  })
  if (user === null) throw fieldErrors({ username: [USERNAME_TAKEN] })
  deps.cache.delete(user.id)
  return user
}

/**
 * Activates or deactivates a user; every instance sees it within a second. A
 * deactivation ends all the user's sessions.
 */
export async function setUserActive (deps: AccountDeps, id: number, isActive: boolean): Promise<void> {
  await setActive(deps.db, id, isActive)
  deps.cache.delete(id)
  if (isActive) await publishUserChanged(deps.sessions, id)
  else await endSessions(deps.sessions, { userId: id }, id)
}

/**
 * Deletes a user and, through the foreign key, their sessions and
 * refresh-token records; every instance sees it within a second.
 */
export async function deleteUser (deps: AccountDeps, id: number): Promise<void> {
  // Ended first, so that every instance refuses the sessions' access tokens by their id too.
  await endSessions(deps.sessions, { userId: id }, id)
  await deleteUserById(deps.db, id)
  deps.cache.delete(id)
  await publishUserChanged(deps.sessions, id)
}

export const OLD_PASSWORD_INCORRECT = 'Your old password was entered incorrectly. Please enter it again.'

/**
 * POST /api/users/me/password/: Django's PasswordChangeForm. The old password
 * must be right and the new one pass the validators; every other session of
 * the user ends, the current one (`keepSessionId`) lives.
 */
export async function changePassword (deps: AccountDeps, userId: number, oldPassword: string, newPassword: string, keepSessionId: string | null): Promise<void> {
  const user = await findUserById(deps.db, userId)
  // Deleted since the access token was checked.
  if (user === undefined) throw userNotFound()
  if (!await deps.hasher.verify(user.password, oldPassword)) throw fieldErrors({ old_password: [OLD_PASSWORD_INCORRECT] })
  const problems = validatePassword(newPassword, { username: user.username, email: user.email })
  if (problems.length > 0) throw fieldErrors({ new_password: problems })
  await setPasswordHash(deps.db, userId, await deps.hasher.hash(newPassword))
  await endSessions(deps.sessions, { userId, except: keepSessionId })
}
