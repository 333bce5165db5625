// common-passwords.txt.gz: Django 4.2's own list (BSD licence), copied from Debian trixie's python3-django 4.2.28; created by Royce Williams, as Django's file says.
//
// Django's four default AUTH_PASSWORD_VALIDATORS, in their default order and
// with Django's messages, so a password refused by a Django deployment is
// refused here with the same words. Lengths count code points, as Python's
// len() does, not UTF-16 units.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { projectRoot } from '../paths.js'

// The max_length of Django's User.password column, which DRF serializers
// derived from the model inherit.
export const PASSWORD_MAX_LENGTH = 128

export interface PasswordUser {
  username: string
  email: string
  first_name?: string
  last_name?: string
}

export interface PasswordValidationOptions {
  minLength?: number
}

const DEFAULT_MIN_LENGTH = 8
const MAX_SIMILARITY = 0.7
// Looked up from projectRoot because this module runs both from src/ (tap)
// and from dist/src/ (after tsc), where the .gz is not copied.
const COMMON_PASSWORDS_PATH = join(projectRoot, 'src/auth/common-passwords.txt.gz')

// Django names the fields by their verbose_name, in this order.
const SIMILARITY_ATTRIBUTES = [
  ['username', 'username'],
  ['first_name', 'first name'],
  ['last_name', 'last name'],
  ['email', 'email address']
] as const

// Python's unicode \W: anything that is not alphanumeric (L*, N*) or '_'.
const PYTHON_NON_WORD = /[^\p{L}\p{N}_]+/u

// Python's str.isspace() set, which str.strip() removes: unlike JS \s it
// includes U+001C–U+001F and U+0085, and excludes U+FEFF.
const PYTHON_WHITESPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]'
const PYTHON_EDGE_WHITESPACE = new RegExp(`^${PYTHON_WHITESPACE}+|${PYTHON_WHITESPACE}+$`, 'g')

// Python's str.isdigit() is true for Numeric_Type Decimal (= \p{Nd}) or
// Digit; JS has no property for the latter, so its 128 code points
// (superscripts, circled digits, …; listed from Python 3.11) are spelled out.
const PYTHON_DIGITS = /^[\p{Nd}\u00b2\u00b3\u00b9\u1369-\u1371\u19da\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u2474-\u247c\u2488-\u2490\u24ea\u24f5-\u24fd\u24ff\u2776-\u277e\u2780-\u2788\u278a-\u2792\u{10a40}-\u{10a43}\u{10e60}-\u{10e68}\u{11052}-\u{1105a}\u{1f100}-\u{1f10a}]+$/u

let commonPasswords: Set<string> | undefined

export function validatePassword (
  password: string,
  user: PasswordUser,
  options: PasswordValidationOptions = {}
): string[] {
  const errors = [
    checkUserAttributeSimilarity(password, user),
    checkMinimumLength(password, options.minLength ?? DEFAULT_MIN_LENGTH),
    checkCommonPassword(password),
    checkNumericPassword(password)
  ]
  return errors.filter((error): error is string => error !== undefined)
}

function checkUserAttributeSimilarity (password: string, user: PasswordUser): string | undefined {
  const lowerPassword = password.toLowerCase()
  for (const [attribute, verboseName] of SIMILARITY_ATTRIBUTES) {
    const value = user[attribute]
    if (value === undefined || value === '') continue
    if (isTooSimilar(lowerPassword, value.toLowerCase())) {
      return `The password is too similar to the ${verboseName}.`
    }
  }
  return undefined
}

function isTooSimilar (lowerPassword: string, lowerValue: string): boolean {
  const parts = [...lowerValue.split(PYTHON_NON_WORD), lowerValue]
  return parts.some(part =>
    !exceedsMaximumLengthRatio(lowerPassword, part) &&
    quickRatio(lowerPassword, part) >= MAX_SIMILARITY
  )
}

// Django skips the comparison when the part is so much shorter than the
// password that quick_ratio could not reach max_similarity anyway.
function exceedsMaximumLengthRatio (password: string, part: string): boolean {
  const passwordLength = codePointLength(password)
  const partLength = codePointLength(part)
  const lengthBoundSimilarity = MAX_SIMILARITY / 2 * passwordLength
  return passwordLength >= 10 * partLength && partLength < lengthBoundSimilarity
}

// difflib.SequenceMatcher(a, b).quick_ratio(): twice the size of the
// multiset intersection of the characters, over the total length.
function quickRatio (a: string, b: string): number {
  const available = countCodePoints(b)
  let matches = 0
  for (const char of a) {
    const count = available.get(char) ?? 0
    if (count > 0) matches++
    available.set(char, count - 1)
  }
  const total = codePointLength(a) + codePointLength(b)
  // difflib's _calculate_ratio defines two empty sequences as identical.
  return total === 0 ? 1 : 2 * matches / total
}

function countCodePoints (value: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1)
  return counts
}

function checkMinimumLength (password: string, minLength: number): string | undefined {
  if (codePointLength(password) >= minLength) return undefined
  const unit = minLength === 1 ? 'character' : 'characters'
  return `This password is too short. It must contain at least ${minLength} ${unit}.`
}

function checkCommonPassword (password: string): string | undefined {
  const candidate = stripPythonWhitespace(password.toLowerCase())
  return loadCommonPasswords().has(candidate) ? 'This password is too common.' : undefined
}

function checkNumericPassword (password: string): string | undefined {
  return PYTHON_DIGITS.test(password) ? 'This password is entirely numeric.' : undefined
}

// Read on first use: ~20,000 entries that most processes (CLI tools, token
// refreshes) never need.
function loadCommonPasswords (): Set<string> {
  commonPasswords ??= parsePasswordList(gunzipSync(readFileSync(COMMON_PASSWORDS_PATH)).toString('utf8'))
  return commonPasswords
}

// Python iterates the file by lines, so a final newline ends the last entry
// rather than adding an empty one; each entry is strip()ped as Django does.
function parsePasswordList (text: string): Set<string> {
  return new Set(text.replace(/\n$/, '').split('\n').map(stripPythonWhitespace))
}

function stripPythonWhitespace (value: string): string {
  return value.replace(PYTHON_EDGE_WHITESPACE, '')
}

function codePointLength (value: string): number {
  return [...value].length
}
