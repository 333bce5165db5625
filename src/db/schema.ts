import { sql } from 'drizzle-orm'
import { boolean, index, integer, pgTable, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core'

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

// One row per refresh token ever issued (simplejwt keeps two tables). The raw
// token is never stored: its jti identifies it.
export const refreshTokens = pgTable('refresh_tokens', {
  jti: varchar('jti', { length: 255 }).primaryKey(),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  issuedAt: timestamp('issued_at', { withTimezone: true }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  blacklistedAt: timestamp('blacklisted_at', { withTimezone: true }),
  // Set when the token was rotated: the jti of the token that replaced it.
  replacedBy: varchar('replaced_by', { length: 255 })
}, table => [
  index('refresh_tokens_user_id_idx').on(table.userId),
  index('refresh_tokens_expires_at_idx').on(table.expiresAt)
])

export type User = typeof users.$inferSelect
export type NewUser = typeof users.$inferInsert
export type RefreshTokenRow = typeof refreshTokens.$inferSelect
