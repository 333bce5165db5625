// The kinds of security event (ASVS 16.3.1). Each says what happened, never
// with a password or a token: the detail holds only small facts (a scope, a
// reason, the fields an admin changed, who did it).

export const SECURITY_EVENT_TYPES = [
  'login_succeeded',
  'login_failed',
  'token_refreshed',
  'refresh_reuse_detected',
  'logout',
  'session_ended',
  'password_changed',
  'user_created',
  'user_updated',
  'user_deactivated',
  'user_deleted',
  /** A request refused by the throttle (recorded by the throttling plugin). */
  'throttled'
] as const

export type SecurityEventType = typeof SECURITY_EVENT_TYPES[number]

/** What the event log keeps of the request that caused an event. */
export interface RequestLike {
  ip: string
  headers: Record<string, string | string[] | undefined>
}

export interface SecurityEvent {
  type: SecurityEventType
  /** The user the event is about (null: a login for an unknown username). */
  userId?: number | null
  sessionId?: string | null
  /** The request that caused it: its client address and User-Agent are kept. */
  request?: RequestLike
  /** Small facts, never a secret: a scope, a reason, the names of changed fields, the acting admin's id. */
  detail?: Record<string, unknown>
}
