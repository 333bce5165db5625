import { and, asc, eq, gt, ilike, sql, type SQL } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { sqlState, UNIQUE_VIOLATION } from '../db/errors.js'
import { users, type NewUser, type User } from '../db/schema.js'

// The user repository: plain functions over a Db. Usernames are compared with
// PostgreSQL's lower(), the same expression as the unique index.

const sameUsername = (username: string) => sql`lower(${users.username}) = lower(${username})`

export async function findUserByUsername (db: Db, username: string): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(sameUsername(username)).limit(1)
  return user
}

export async function findUserById (db: Db, id: number): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, id)).limit(1)
  return user
}

export interface UserStatus { isActive: boolean }

export async function findUserStatus (db: Db, id: number): Promise<UserStatus | undefined> {
  const [status] = await db.select({ isActive: users.isActive }).from(users).where(eq(users.id, id)).limit(1)
  return status
}

export async function isUsernameTaken (db: Db, username: string): Promise<boolean> {
  const [row] = await db.select({ id: users.id }).from(users).where(sameUsername(username)).limit(1)
  return row !== undefined
}

/** Inserts a user; null when the username was taken in the meantime (the unique index). */
export async function insertUser (db: Db, user: NewUser): Promise<User | null> {
  try {
    const [created] = await db.insert(users).values(user).returning()
    return created!
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION) return null
    throw error
  }
}

export async function setPasswordHash (db: Db, id: number, hash: string): Promise<void> {
  await db.update(users).set({ password: hash }).where(eq(users.id, id))
}

export async function setLastLogin (db: Db, id: number, at: Date): Promise<void> {
  await db.update(users).set({ lastLogin: at }).where(eq(users.id, id))
}

export async function setActive (db: Db, id: number, isActive: boolean): Promise<void> {
  await db.update(users).set({ isActive }).where(eq(users.id, id))
}

export async function deleteUserById (db: Db, id: number): Promise<void> {
  await db.delete(users).where(eq(users.id, id))
}

export interface UserFilter {
  /** Part of the username, without regard to case. */
  username?: string
  /** Part of the email, without regard to case. */
  email?: string
  isActive?: boolean
  isStaff?: boolean
}

// LIKE's wildcards in a user's text match only themselves.
const containing = (text: string) => `%${text.replace(/[\\%_]/g, character => `\\${character}`)}%`

/** A page of users by id, after `afterId`; one more than `limit` tells there is a next page. */
export async function listUsers (db: Db, filter: UserFilter, afterId: number | null, limit: number): Promise<User[]> {
  const conditions: SQL[] = []
  if (filter.username !== undefined) conditions.push(ilike(users.username, containing(filter.username)))
  if (filter.email !== undefined) conditions.push(ilike(users.email, containing(filter.email)))
  if (filter.isActive !== undefined) conditions.push(eq(users.isActive, filter.isActive))
  if (filter.isStaff !== undefined) conditions.push(eq(users.isStaff, filter.isStaff))
  if (afterId !== null) conditions.push(gt(users.id, afterId))
  return await db.select().from(users).where(and(...conditions)).orderBy(asc(users.id)).limit(limit + 1)
}

export type UserChanges = Partial<Pick<User, 'email' | 'firstName' | 'lastName' | 'isActive' | 'isStaff' | 'isSuperuser'>>

/** Applies the changes; the user as it now is, or undefined when it does not exist. */
export async function updateUser (db: Db, id: number, changes: UserChanges): Promise<User | undefined> {
  const [user] = await db.update(users).set(changes).where(eq(users.id, id)).returning()
  return user
}
