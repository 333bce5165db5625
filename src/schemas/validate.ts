import type { TObject, TSchema } from '@sinclair/typebox'
import { ApiError, type FieldErrors } from '../errors.js'
import { JsonNumber } from './json-numbers.js'

// Validates a request body as DRF's serializers do, driven by the route's
// TypeBox body schema, so that the schema in the OpenAPI document and the
// checks made are one thing. Messages and their order are DRF's.

export const MESSAGES = {
  required: 'This field is required.',
  null: 'This field may not be null.',
  blank: 'This field may not be blank.',
  invalidString: 'Not a valid string.',
  maxLength: (n: number) => `Ensure this field has no more than ${n} characters.`,
  invalidChoice: (value: string) => `"${value}" is not a valid choice.`,
  notADictionary: (type: string) => `Invalid data. Expected a dictionary, but got ${type}.`,
  invalidBoolean: 'Must be a valid boolean.'
}

// DRF's BooleanField: these texts (and JSON true/false, 1/0) are booleans, nothing else.
const TRUE_TEXTS = new Set(['t', 'y', 'yes', 'true', 'on', '1'])
const FALSE_TEXTS = new Set(['f', 'n', 'no', 'false', 'off', '0'])

function validateBoolean (raw: unknown): { value: boolean } | { error: string[] } {
  if (raw === null) return { error: [MESSAGES.null] }
  if (typeof raw === 'boolean') return { value: raw }
  if (typeof raw === 'string' || raw instanceof JsonNumber) {
    const text = String(raw).toLowerCase()
    if (TRUE_TEXTS.has(text)) return { value: true }
    if (FALSE_TEXTS.has(text)) return { value: false }
  }
  return { error: [MESSAGES.invalidBoolean] }
}

/** A check for a string `format`, with the message DRF gives when it fails. */
export interface FormatCheck { check: (value: string) => boolean, message: string }

export class ValidationFailed extends ApiError {
  /** `valid` holds the cleaned values of the fields that passed, for checks that need a database. */
  constructor (readonly fields: FieldErrors, readonly valid: Record<string, string | boolean> = {}) {
    super(400, fields)
  }
}

/** Python's name for the type of a parsed JSON value, as DRF reports it. */
export function pythonTypeName (value: unknown): string {
  if (Array.isArray(value)) return 'list'
  if (value === null) return 'NoneType'
  if (value instanceof JsonNumber) return value.isInteger ? 'int' : 'float'
  switch (typeof value) {
    case 'string': return 'str'
    case 'boolean': return 'bool'
    case 'number': return Number.isInteger(value) ? 'int' : 'float'
    default: return 'dict'
  }
}

interface StringRules {
  blank: boolean
  maxLength?: number
  format?: FormatCheck
  choices?: string[]
}

function validateString (raw: unknown, rules: StringRules): { value: string } | { error: string[] } {
  if (raw === null) return { error: [MESSAGES.null] }
  // DRF's CharField takes strings and numbers (as Python's str() of them), nothing else.
  if (typeof raw !== 'string' && typeof raw !== 'number' && !(raw instanceof JsonNumber)) {
    return { error: [MESSAGES.invalidString] }
  }
  const value = String(raw).trim()
  if (value === '') {
    return rules.blank ? { value } : { error: [MESSAGES.blank] }
  }
  if (rules.choices !== undefined && !rules.choices.includes(value)) {
    return { error: [MESSAGES.invalidChoice(value)] }
  }
  const errors: string[] = []
  if (rules.format !== undefined && !rules.format.check(value)) errors.push(rules.format.message)
  // Django and JSON Schema both count code points, not UTF-16 units.
  if (rules.maxLength !== undefined && [...value].length > rules.maxLength) errors.push(MESSAGES.maxLength(rules.maxLength))
  return errors.length > 0 ? { error: errors } : { value }
}

function rulesOf (schema: TSchema, formats: Record<string, FormatCheck>): StringRules {
  const choices = Array.isArray(schema.anyOf)
    ? (schema.anyOf as TSchema[]).map(option => String(option.const))
    : undefined
  return {
    blank: (schema.minLength ?? 0) === 0 && choices === undefined,
    maxLength: schema.maxLength,
    format: schema.format === undefined ? undefined : formats[schema.format],
    choices
  }
}

/**
 * Returns a validator for bodies of the given object schema: it answers the
 * cleaned values (strings trimmed, numbers as text) or throws ValidationFailed
 * with DRF's field errors, in the order of the schema's properties.
 */
export function compileBodyValidator (schema: TObject, formats: Record<string, FormatCheck> = {}) {
  const required = new Set(schema.required ?? [])
  const fields = Object.entries(schema.properties).map(([name, property]) =>
    ({ name, required: required.has(name), boolean: property.type === 'boolean', rules: rulesOf(property, formats) }))

  return function validateBody (data: unknown): Record<string, string | boolean> {
    if (typeof data !== 'object' || data === null || Array.isArray(data) || data instanceof JsonNumber) {
      throw new ValidationFailed({ non_field_errors: [MESSAGES.notADictionary(pythonTypeName(data))] })
    }
    const input = data as Record<string, unknown>
    const value: Record<string, string | boolean> = {}
    const errors: FieldErrors = {}
    for (const field of fields) {
      if (!Object.hasOwn(input, field.name) || input[field.name] === undefined) {
        if (field.required) errors[field.name] = [MESSAGES.required]
        continue
      }
      const result = field.boolean ? validateBoolean(input[field.name]) : validateString(input[field.name], field.rules)
      if ('error' in result) errors[field.name] = result.error
      else value[field.name] = result.value
    }
    if (Object.keys(errors).length > 0) throw new ValidationFailed(errors, value)
    return value
  }
}
