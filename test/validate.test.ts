import { Type } from '@sinclair/typebox'
import t from 'tap'
import { compileBodyValidator, MESSAGES, pythonTypeName, ValidationFailed } from '../src/schemas/validate.js'

const Body = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 5 }),
  note: Type.Optional(Type.String({ maxLength: 3, format: 'upper' })),
  scope: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('global')]))
})
const validate = compileBodyValidator(Body, { upper: { check: v => v === v.toUpperCase(), message: 'Shout it.' } })

function errorsOf (data: unknown): unknown {
  try {
    validate(data)
  } catch (error) {
    t.type(error, ValidationFailed)
    return (error as ValidationFailed).body
  }
  return null
}

t.test('values are cleaned as DRF CharField does', async t => {
  t.same(validate({ name: '  ab  ' }), { name: 'ab' })
  t.same(validate({ name: 123 }), { name: '123' }, 'a number is taken as its text')
  t.same(validate({ name: 'a', note: '' }), { name: 'a', note: '' }, 'blank allowed without minLength')
  t.same(validate({ name: 'a', scope: 'global' }), { name: 'a', scope: 'global' })
  t.same(validate({ name: 'a', extra: 'ignored' }), { name: 'a' }, 'unknown fields are ignored')
})

t.test('field errors in DRF\'s words and the schema\'s order', async t => {
  t.same(errorsOf({}), { name: [MESSAGES.required] })
  t.same(errorsOf({ name: undefined }), { name: [MESSAGES.required] })
  t.same(errorsOf({ name: null }), { name: [MESSAGES.null] })
  t.same(errorsOf({ name: '   ' }), { name: [MESSAGES.blank] })
  t.same(errorsOf({ name: true }), { name: [MESSAGES.invalidString] })
  t.same(errorsOf({ name: ['a'] }), { name: [MESSAGES.invalidString] })
  t.same(errorsOf({ name: { a: 1 } }), { name: [MESSAGES.invalidString] })
  t.same(errorsOf({ name: 'toolong' }), { name: ['Ensure this field has no more than 5 characters.'] })
  t.same(errorsOf({ name: 'a', note: 'abcd' }), { note: ['Shout it.', 'Ensure this field has no more than 3 characters.'] })
  t.same(errorsOf({ name: 'a', scope: 'elsewhere' }), { scope: ['"elsewhere" is not a valid choice.'] })
  t.same(errorsOf({ name: 'a', scope: '' }), { scope: [MESSAGES.blank] }, 'a choice may not be blank')
  const both = errorsOf({ note: 'x', name: '' }) as Record<string, unknown>
  t.same(Object.keys(both), ['name', 'note'], 'errors follow the schema order, not the body order')
})

t.test('ValidationFailed keeps the fields that passed', async t => {
  try {
    validate({ name: 'ok', note: 'bad' })
    t.fail('should throw')
  } catch (error) {
    t.same((error as ValidationFailed).valid, { name: 'ok' })
  }
})

t.test('a body that is not an object names its Python type', async t => {
  for (const [data, type] of [[[], 'list'], ['x', 'str'], [1, 'int'], [1.5, 'float'], [true, 'bool'], [null, 'NoneType']] as const) {
    t.same(errorsOf(data), { non_field_errors: [`Invalid data. Expected a dictionary, but got ${type}.`] })
  }
  t.equal(pythonTypeName({}), 'dict')
})

t.test('lengths count code points, as Django and JSON Schema do', async t => {
  t.same(validate({ name: '😀😀😀😀😀' }), { name: '😀😀😀😀😀' })
  t.same(errorsOf({ name: '😀😀😀😀😀😀' }), { name: ['Ensure this field has no more than 5 characters.'] })
})

t.test('a schema whose fields are all optional', async t => {
  const optional = compileBodyValidator(Type.Object({ scope: Type.Optional(Type.String()) }))
  t.same(optional({}), {})
  t.same(optional({ scope: ' local ' }), { scope: 'local' })
})
