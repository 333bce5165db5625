// Python's json reads a number with a fraction or an exponent as a float and
// any other as an int of any size, and DRF's CharField takes str() of either:
// `"password": 1.0` is the password "1.0", and a body `1.0` "got float".
// JSON.parse reads both as one double, so the source text is kept here.

const INTEGER = /^-?\d+$/

/** A number of a JSON body, as Python's json module reads it. */
export class JsonNumber {
  constructor (readonly source: string) {}

  get isInteger (): boolean {
    return INTEGER.test(this.source)
  }

  /** Python's str() of the number. */
  toString (): string {
    return this.isInteger ? BigInt(this.source).toString() : pythonFloatRepr(Number(this.source))
  }
}

/** Python's repr() of a float: the shortest round-trip digits, in exponent form below 1e-4 and from 1e16. */
export function pythonFloatRepr (value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf'
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0'
  const sign = value < 0 ? '-' : ''
  const [mantissa = '', exponentText = ''] = Math.abs(value).toExponential().split('e')
  const exponent = Number(exponentText)
  if (exponent < -4 || exponent >= 16) {
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`
  }
  const digits = mantissa.replace('.', '')
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`
  const fraction = digits.slice(exponent + 1)
  return `${sign}${digits.slice(0, exponent + 1).padEnd(exponent + 1, '0')}.${fraction === '' ? '0' : fraction}`
}

const WHITESPACE = /[ \t\n\r]*/y
const STRING = /"(?:[^"\\]|\\.)*"/y
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const LITERAL = /true|false|null/y

/**
 * The source text of each number that is a member of the top-level object of
 * `text`, by key (the last of a repeated key, as both parsers keep). `text`
 * must be JSON that JSON.parse has accepted.
 */
function memberNumberSources (text: string): Map<string, string> {
  let at = 0
  const read = (pattern: RegExp): string => {
    pattern.lastIndex = at
    const found = pattern.exec(text)![0]
    at += found.length
    return found
  }
  const skipValue = (): void => {
    if (text[at] === '"' || (text[at] !== '{' && text[at] !== '[')) {
      read(text[at] === '"' ? STRING : LITERAL)
      return
    }
    let depth = 0
    do {
      const char = text[at]
      if (char === '"') {
        read(STRING)
        continue
      }
      if (char === '{' || char === '[') depth++
      else if (char === '}' || char === ']') depth--
      at++
    } while (depth > 0)
  }

  const sources = new Map<string, string>()
  read(WHITESPACE)
  at++ // {
  read(WHITESPACE)
  while (text[at] === '"') {
    const key = JSON.parse(read(STRING)) as string
    read(WHITESPACE)
    at++ // :
    read(WHITESPACE)
    if (/[-\d]/.test(text[at]!)) {
      sources.set(key, read(NUMBER))
    } else {
      sources.delete(key)
      skipValue()
    }
    read(WHITESPACE)
    if (text[at] !== ',') break
    at++
    read(WHITESPACE)
  }
  return sources
}

/**
 * The value JSON.parse made of `text`, with a top-level number, and the
 * numbers among the top-level object's members, as JsonNumbers.
 */
export function withJsonNumbers (text: string, parsed: unknown): unknown {
  if (typeof parsed === 'number') return new JsonNumber(text.trim())
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return parsed
  const members = parsed as Record<string, unknown>
  if (!Object.values(members).some(value => typeof value === 'number')) return parsed
  for (const [key, source] of memberNumberSources(text)) {
    Object.defineProperty(members, key, { value: new JsonNumber(source), writable: true, enumerable: true, configurable: true })
  }
  return parsed
}
