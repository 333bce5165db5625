import { sql } from 'drizzle-orm'
import { bigint, boolean, index, integer, jsonb, pgTable, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core'

// Modelled on Django's auth_user, so that an export from Django maps column by column.
export const users = pgTable('users', {
  id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
  username: varchar('username', { length: 150 }).notNull(),
  email: varchar('email', { length: 254 }).notNull().default(''),
  password: varchar('password', { length: 255 }).notNull(),
  firstName: varchar('first_name', { length: 150 }).notNull().default(''),
  lastName: varchar('last_name', { length: 150 }).notNull().default(''),
  isActive: boolean('is_active').notNull().default(true),
  isStaff: boolean('is_staff').notNull().default(false),
  isSuperuser: boolean('is_superuser').notNull().default(false),
  lastLogin: timestamp('last_login', { withTimezone: true }),
  dateJoined: timestamp('date_joined', { withTimezone: true }).notNull().defaultNow()
}, table => [
  // Unique without regard to case: "Alice" and "alice" are one account.
  uniqueIndex('users_username_lower_key').on(sql`lower(${table.username})`)
])

// A login: every refresh token of its rotation chain belongs to it, and its
// access tokens carry its id in the `sid` claim. Ended (logout, reuse,
// password change, deactivation) or past its absolute end, it opens nothing.
export const sessions = pgTable('sessions', {
  id: varchar('id', { length: 32 }).primaryKey(),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }).notNull(),
  // REFRESH_TOKEN_ABSOLUTE_LIFETIME after the login: no refresh token of the session outlives it.
  absoluteExpiresAt: timestamp('absolute_expires_at', { withTimezone: true }).notNull(),
  endedAt: timestamp('ended_at', { withTimezone: true }),
  userAgent: varchar('user_agent', { length: 512 }).notNull().default(''),
  ip: varchar('ip', { length: 45 }).notNull().default('')
}, table => [
  index('sessions_user_id_idx').on(table.userId),
  index('sessions_ended_at_idx').on(table.endedAt),
  index('sessions_absolute_expires_at_idx').on(table.absoluteExpiresAt)
])

// One row per refresh token ever issued (simplejwt keeps two tables). The raw
// token is never stored: its jti identifies it.
export const refreshTokens = pgTable('refresh_tokens', {
  jti: varchar('jti', { length: 255 }).primaryKey(),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  issuedAt: timestamp('issued_at', { withTimezone: true }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  blacklistedAt: timestamp('blacklisted_at', { withTimezone: true }),
  // Set when the token was rotated: the jti of the token that replaced it.
  replacedBy: varchar('replaced_by', { length: 255 }),
  // The session of the token; null for a token minted by simplejwt until a refresh starts one for it.
  sessionId: varchar('session_id', { length: 32 }).references(() => sessions.id, { onDelete: 'cascade' })
}, table => [
  index('refresh_tokens_user_id_idx').on(table.userId),
  index('refresh_tokens_session_id_idx').on(table.sessionId),
  index('refresh_tokens_expires_at_idx').on(table.expiresAt)
])

// The security event log (ASVS 16.3.1): who did what, from where, when. No
// foreign keys: an event outlives its user and its session (a deleted user's
// events are the record of what happened). Never a password or a token.
export const securityEvents = pgTable('security_events', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  at: timestamp('at', { withTimezone: true }).notNull(),
  type: varchar('type', { length: 40 }).notNull(),
  userId: integer('user_id'),
  sessionId: varchar('session_id', { length: 32 }),
  ip: varchar('ip', { length: 45 }).notNull().default(''),
  userAgent: varchar('user_agent', { length: 512 }).notNull().default(''),
  detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({})
}, table => [
  index('security_events_at_idx').on(table.at, table.id),
  index('security_events_user_at_idx').on(table.userId, table.at, table.id),
  index('security_events_type_at_idx').on(table.type, table.at, table.id)
])

export type User = typeof users.$inferSelect
export type NewUser = typeof users.$inferInsert
export type Session = typeof sessions.$inferSelect
export type RefreshTokenRow = typeof refreshTokens.$inferSelect
export type SecurityEventRow = typeof securityEvents.$inferSelect
