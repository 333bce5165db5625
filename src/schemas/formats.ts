import { EMAIL_INVALID, isValidEmail, isValidUsername, USERNAME_INVALID } from '../users/fields.js'
import type { FormatCheck } from './validate.js'

/** The string formats the body schemas use, with Django's checks and messages. */
export const formats: Record<string, FormatCheck> = {
  username: { check: isValidUsername, message: USERNAME_INVALID },
  email: { check: isValidEmail, message: EMAIL_INVALID }
}
