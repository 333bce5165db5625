// Django's rules for the username and email fields of its default User model,
// so that values accepted or rejected here match a Django + DRF deployment.
import { isIPv4, isIPv6 } from 'node:net'
import { domainToASCII } from 'node:url'

export const USERNAME_INVALID = 'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.'
export const EMAIL_INVALID = 'Enter a valid email address.'
export const USERNAME_TAKEN = 'A user with that username already exists.'
export const USERNAME_MAX_LENGTH = 150
export const EMAIL_MAX_LENGTH = 254

// RFC 3696's limit, which Django checks before any regex runs (since the
// CVE-2023-36053 fix).
const EMAIL_MAX_TOTAL_LENGTH = 320
// Django's validate_ipv6_address refuses longer strings before parsing them.
const IPV6_MAX_LENGTH = 39

// Python's str.isspace() set, which str.strip() removes: unlike JS \s it
// includes U+001C–U+001F and U+0085, and excludes U+FEFF.
const PYTHON_WHITESPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]'
const PYTHON_EDGE_WHITESPACE = new RegExp(`^${PYTHON_WHITESPACE}+|${PYTHON_WHITESPACE}+$`, 'g')

// Python's unicode \w is exactly "alphanumeric or underscore" (categories L*
// and N*); unlike \p{M} it leaves out combining marks, so Django rejects
// e.g. 'हिन्दी' (its vowel signs are marks) and so does this.
const USERNAME_PATTERN = /^[\p{L}\p{N}_.@+-]+$/u

// Django compiles its email regexes with re.IGNORECASE, under which Python
// also lets [A-Z] match four non-ASCII letters whose case mapping reaches
// ASCII: U+0130 İ, U+0131 ı, U+017F ſ and U+212A K (Kelvin sign). The
// letters are spelled out here so that no JS case-folding rule is relied on.
const LETTERS = 'A-Za-z\\u0130\\u0131\\u017f\\u212a'
const ATOM = `[-!#$%&'*+/=?^_\`{}|~0-9${LETTERS}]+`
const DOT_ATOM = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`, 'u')
const QUOTED_STRING = new RegExp(
  '^"(?:[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f!#-\\[\\]-\\x7f\\u0130\\u0131\\u017f\\u212a]' +
  '|\\\\[\\x01-\\x09\\x0b\\x0c\\x0e-\\x7f\\u0130\\u0131\\u017f\\u212a])*"$',
  'u'
)
const ALNUM = `[0-9${LETTERS}]`
const ALNUM_HYPHEN = `[-0-9${LETTERS}]`
const DOMAIN = new RegExp(
  `^(?:${ALNUM}(?:${ALNUM_HYPHEN}{0,61}${ALNUM})?\\.)+${ALNUM_HYPHEN}{2,63}(?<!-)$`,
  'u'
)
const ADDRESS_LITERAL = /^\[([A-Fa-f0-9:.]+)\]$/
const DOMAIN_ALLOWLIST = new Set(['localhost'])

// The label separators of Python's 'idna' codec.
const IDNA_DOTS = /[.\u3002\uff0e\uff61]/
// Nameprep's table B.1: code points mapped to nothing (soft hyphen, zero
// width joiners, variation selectors, …) before a label is encoded.
// eslint-disable-next-line no-misleading-character-class -- lone code points to delete, not parts of a grapheme
const NAMEPREP_MAPPED_TO_NOTHING = /[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]/g
// The letters that nameprep's case folding (table B.2) maps differently from
// UTS #46's nontransitional processing: 'ß' and 'ẞ' to 'ss', 'ς' to 'σ'.
const NAMEPREP_FOLDED_DEVIATIONS = /[ßẞς]/g
const NON_ASCII = /[^\p{ASCII}]/u
const NON_NUMERIC_LAST_LABEL = '.a'

export function normalizeUsername (value: string): string {
  return value.normalize('NFKC')
}

export function isValidUsername (value: string): boolean {
  return USERNAME_PATTERN.test(value)
}

export function normalizeEmail (value: string): string {
  const stripped = value.replace(PYTHON_EDGE_WHITESPACE, '')
  const at = stripped.lastIndexOf('@')
  if (at === -1) return value
  return stripped.slice(0, at + 1) + stripped.slice(at + 1).toLowerCase()
}

export function isValidEmail (value: string): boolean {
  if (value === '' || !value.includes('@')) return false
  if (codePointLength(value) > EMAIL_MAX_TOTAL_LENGTH) return false
  const at = value.lastIndexOf('@')
  const userPart = value.slice(0, at)
  const domainPart = value.slice(at + 1)
  if (!isValidUserPart(userPart)) return false
  if (DOMAIN_ALLOWLIST.has(domainPart) || isValidDomainPart(domainPart)) return true
  // Django retries after punycode(); Python's codec returns an ASCII domain
  // unchanged, so only a non-ASCII one can pass the second time.
  return NON_ASCII.test(domainPart) && isValidDomainPart(idnaEncode(domainPart))
}

function codePointLength (value: string): number {
  return [...value].length
}

function isValidUserPart (userPart: string): boolean {
  return DOT_ATOM.test(userPart) || QUOTED_STRING.test(userPart)
}

function isValidDomainPart (domainPart: string): boolean {
  if (DOMAIN.test(domainPart)) return true
  const literal = ADDRESS_LITERAL.exec(domainPart)
  return literal !== null && isValidIpAddress(literal[1] as string)
}

function isValidIpAddress (address: string): boolean {
  // Both Python's ipaddress (3.9.5+) and node:net refuse IPv4 octets with
  // leading zeros, so only Django's IPv6 length cap needs adding.
  return isIPv4(address) || (address.length <= IPV6_MAX_LENGTH && isIPv6(address))
}

// Python's 'idna' codec (what Django's punycode() uses) is IDNA 2003, while
// Node's domainToASCII is WHATWG's UTS #46, so Python's steps are followed
// and Node only does the punycoding. Labels are split before nameprep, and
// an ASCII label is kept as it is, so WHATWG never percent-decodes it or
// reads a numeric label as IPv4.
function idnaEncode (domain: string): string {
  return domain.split(IDNA_DOTS)
    .map(label => NON_ASCII.test(label) ? encodeLabel(label) : label)
    .join('.')
}

function encodeLabel (label: string): string {
  // Nameprep's own mappings come first: UTS #46 rejects a ZWJ or a '․' that
  // IDNA 2003 drops or maps to '.', and keeps 'ß' and 'ς', which IDNA 2003
  // case-folds; a label that maps to ASCII is used as it is.
  const prepared = label.replace(NAMEPREP_MAPPED_TO_NOTHING, '')
    .normalize('NFKC')
    .replace(NAMEPREP_FOLDED_DEVIATIONS, char => char === 'ς' ? 'σ' : 'ss')
  if (!NON_ASCII.test(prepared)) return prepared
  // Python keeps a '%' as it is, which can never pass the domain regex;
  // WHATWG would percent-decode it into something that might.
  if (prepared.includes('%')) return prepared
  // UTS #46 ignores some code points IDNA 2003 keeps (U+2064), which can
  // leave only digits; the dummy last label stops WHATWG from then parsing
  // the label as an IPv4 address. An empty result (unencodable label) fails
  // the domain regex, as Python's UnicodeError makes Django fail the address.
  const encoded = domainToASCII(prepared + NON_NUMERIC_LAST_LABEL)
  return encoded.slice(0, -NON_NUMERIC_LAST_LABEL.length)
}
