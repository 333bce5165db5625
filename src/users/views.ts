import type { User } from '../db/schema.js'

/** A user as GET /api/users/me/ shows them: the password hash never leaves. */
export function currentUserView (user: User) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    first_name: user.firstName,
    last_name: user.lastName,
    is_staff: user.isStaff,
    is_superuser: user.isSuperuser,
    date_joined: user.dateJoined.toISOString(),
    last_login: user.lastLogin?.toISOString() ?? null
  }
}

/** A user as staff see them in the admin API: the same, and whether the account is active. */
export function adminUserView (user: User) {
  return { ...currentUserView(user), is_active: user.isActive }
}
