import { validatePassword } from '../auth/password-validation.js'
import type { User } from '../db/schema.js'
import { fieldErrors, notFound, permissionDenied } from '../errors.js'
import { endSessions, publishUserChanged } from '../sessions/service.js'
import { registerUser, deleteUser, type AccountDeps } from './accounts.js'
import { findUserById, setPasswordHash, updateUser, type UserChanges } from './store.js'

// What staff do through the admin API, as plain functions. Every change that
// affects access goes through the sessions' revocation machinery: a
// deactivation, a deletion or a password set ends the user's sessions and
// tells every instance (NOTIFY) in the same transaction. The admin API reads
// its caller's is_staff/is_superuser from the database on each request, so a
// staff removal needs no message: the next admin request anywhere sees it.

/** The caller of an admin route. */
export interface Actor { id: number, isSuperuser: boolean }

/** A staff member who is not a superuser may not touch a superuser's account (else they could take it over). */
async function targetFor (deps: AccountDeps, actor: Actor, id: number): Promise<User> {
  const user = await findUserById(deps.db, id)
  if (user === undefined) throw notFound()
  if (user.isSuperuser && !actor.isSuperuser) throw permissionDenied()
  return user
}

export interface AdminNewUser {
  username?: string
  email?: string
  password?: string
  first_name?: string
  last_name?: string
  is_active?: boolean
  is_staff?: boolean
  is_superuser?: boolean
}

export async function createUserAsAdmin (deps: AccountDeps, actor: Actor, input: AdminNewUser): Promise<User> {
  if (input.is_superuser !== undefined && !actor.isSuperuser) throw permissionDenied()
  return await registerUser(deps, input, {}, {
    isActive: input.is_active,
    isStaff: input.is_staff,
    isSuperuser: input.is_superuser,
    firstName: input.first_name,
    lastName: input.last_name
  })
}

export interface AdminUserUpdate {
  email?: string
  first_name?: string
  last_name?: string
  is_active?: boolean
  is_staff?: boolean
  is_superuser?: boolean
}

const COLUMN_OF = {
  email: 'email', first_name: 'firstName', last_name: 'lastName', is_active: 'isActive', is_staff: 'isStaff', is_superuser: 'isSuperuser'
} as const

/**
 * Changes a user. Answers the user as it now is and the fields whose value
 * changed. A deactivation ends every session of the user on every instance.
 */
export async function updateUserAsAdmin (deps: AccountDeps, actor: Actor, id: number, update: AdminUserUpdate): Promise<{ user: User, changed: string[] }> {
  if (update.is_superuser !== undefined && !actor.isSuperuser) throw permissionDenied()
  const before = await targetFor(deps, actor, id)
  const changes: UserChanges = {}
  const changed: string[] = []
  for (const [field, column] of Object.entries(COLUMN_OF) as Array<[keyof AdminUserUpdate, keyof UserChanges]>) {
    const value = update[field]
    if (value !== undefined && value !== before[column]) {
      (changes as Record<string, unknown>)[column] = value
      changed.push(field)
    }
  }
  if (changed.length === 0) return { user: before, changed }
  const user = await updateUser(deps.db, id, changes)
  // A user deleted between the read above and this update (two staff members at once): the
  // update's result tells, and a 404 is what the next request would get anyway.
  /* c8 ignore next */
  if (user === undefined) throw notFound()
  deps.cache.delete(id)
  if (changes.isActive === false) await endSessions(deps.sessions, { userId: id }, id)
  else if (changes.isActive === true) await publishUserChanged(deps.sessions, id)
  return { user, changed }
}

/** Sets a user's password (Django's validators apply); every session of the user ends on every instance. */
export async function setPasswordAsAdmin (deps: AccountDeps, actor: Actor, id: number, password: string): Promise<void> {
  const user = await targetFor(deps, actor, id)
  const problems = validatePassword(password, { username: user.username, email: user.email })
  if (problems.length > 0) throw fieldErrors({ password: problems })
  await setPasswordHash(deps.db, id, await deps.hasher.hash(password))
  await endSessions(deps.sessions, { userId: id })
}

export async function deleteUserAsAdmin (deps: AccountDeps, actor: Actor, id: number): Promise<void> {
  await targetFor(deps, actor, id)
  await deleteUser(deps, id)
}

/** Ends every session of a user on every instance; answers how many were live. */
export async function endUserSessionsAsAdmin (deps: AccountDeps, actor: Actor, id: number): Promise<number> {
  await targetFor(deps, actor, id)
  return (await endSessions(deps.sessions, { userId: id })).length
}
