import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import t from 'tap'
import { PASSWORD_MAX_LENGTH, validatePassword, type PasswordUser } from '../src/auth/password-validation.js'
import { projectRoot } from '../src/paths.js'

const SIMILAR_USERNAME = 'The password is too similar to the username.'
const SIMILAR_FIRST_NAME = 'The password is too similar to the first name.'
const SIMILAR_LAST_NAME = 'The password is too similar to the last name.'
const SIMILAR_EMAIL = 'The password is too similar to the email address.'
const TOO_SHORT = 'This password is too short. It must contain at least 8 characters.'
const TOO_COMMON = 'This password is too common.'
const NUMERIC = 'This password is entirely numeric.'

const john: PasswordUser = { username: 'john.smith', email: 'john.smith@example.com', first_name: 'John', last_name: 'Smith' }
const plain: PasswordUser = { username: 'wxq', email: 'wxq@zz.io' }

// Every expectation below is what Django 4.2.28 (Debian trixie's
// python3-django, the release this list comes from) returned from
// validate_password() with the four default AUTH_PASSWORD_VALIDATORS, for a
// django.contrib.auth User built from the same fields. Django 3.2.25
// (Debian bookworm) agrees on all of them except where noted.
const djangoCases: Array<[string, PasswordUser, string[]]> = [
  ['johnsmith', john, [SIMILAR_USERNAME]],
  ['John.Smith1', john, [SIMILAR_USERNAME]],
  ['smith', john, [SIMILAR_USERNAME, TOO_SHORT, TOO_COMMON]],
  ['example.com', { username: 'zed', email: 'jane@example.com' }, [SIMILAR_EMAIL]],
  ['correct horse battery staple', john, []],
  ['password', plain, [TOO_COMMON]],
  ['PASSWORD', plain, [TOO_COMMON]],
  [' password\u001f', plain, [TOO_COMMON]],
  ['\ufeffpassword', plain, []],
  ['password\ufeff', plain, []],
  ['12345678', plain, [TOO_COMMON, NUMERIC]],
  ['83749271', plain, [NUMERIC]],
  ['٣٤٥٦٧٨٩٠', plain, [NUMERIC]],
  ['²³¹²³¹²³', plain, [NUMERIC]],
  ['①②③④⑤⑥⑦⑧', plain, [NUMERIC]],
  ['½½½½½½½½', plain, []],
  [' 83749271', plain, []],
  ['😀😀😀😀', plain, [TOO_SHORT]],
  ['😀😀😀😀😀😀😀😀', plain, []],
  ['', { username: 'wxq', email: 'wxq@zz.io', first_name: 'Anne-' }, [SIMILAR_FIRST_NAME, TOO_SHORT]],
  ['', plain, [TOO_SHORT]],
  ['1234567', plain, [TOO_SHORT, TOO_COMMON, NUMERIC]],
  ['qwerty', plain, [TOO_SHORT, TOO_COMMON]],
  ['JÜRGEN123', { username: 'Jürgen', email: 'j@zz.io' }, [SIMILAR_USERNAME]],
  ['istanbul1', { username: '\u0130stanbul', email: 'i@zz.io' }, [SIMILAR_USERNAME]],
  ['annaanna', { username: 'wxq', email: 'wxq@zz.io', first_name: 'Anna', last_name: 'Anna' }, [TOO_COMMON]],
  ['kowalskiX', { username: 'wxq', email: 'wxq@zz.io', first_name: 'Jan', last_name: 'Kowalski' }, [SIMILAR_LAST_NAME]],
  ['z'.repeat(22) + 'jo', { username: 'jo', email: 'q@zz.io' }, []],
  ['ojoj', { username: 'jo', email: 'q@zz.io' }, [TOO_SHORT]],
  ['mary-ann99', { username: 'maryann_99', email: 'q@zz.io' }, [SIMILAR_USERNAME]],
  ['Müller-Lüdenscheidt', { username: 'zed', email: 'q@zz.io', last_name: 'Lüdenscheidt' }, [SIMILAR_LAST_NAME]],
  ['wxq@zz.io', plain, [SIMILAR_EMAIL]],
  ['trustno1', plain, [TOO_COMMON]],
  ['iloveyou!', plain, [TOO_COMMON]],
  ['abcdefgh', plain, [TOO_COMMON]],
  ['Tr0ub4dor&3', john, []],
  ['dragon', john, [TOO_SHORT, TOO_COMMON]],
  ['00000000', plain, [TOO_COMMON, NUMERIC]],
  // The last entry of the list: the final line is read like any other.
  ['fallen_angel', plain, [TOO_COMMON]],
  ['friend of emily', plain, [TOO_COMMON]],  // Django 3.2: valid (older list)
  ['', { username: '', email: '' }, [TOO_SHORT]],
  ['correct horse', { username: '', email: '', first_name: '', last_name: '' }, []],
  ['bob.smith.example', { username: 'Bob', email: 'bob.smith@example.org' }, [SIMILAR_EMAIL]],
  ['a1b2c3d4e5', { username: 'a1b2c3d4e5f6g7h8', email: 'x@y.zz' }, [SIMILAR_USERNAME, TOO_COMMON]],
  ['secretpass', { username: 'Σίσυφος', email: 'x@y.zz' }, []],
  ['ΣΊΣΥΦΟΣ1', { username: 'σίσυφος', email: 'x@y.zz' }, [SIMILAR_USERNAME]],
  // quick_ratio counts a repeated character once per occurrence in the attribute.
  ['aaaaaaab', { username: 'ab', email: 'q@zz.io' }, []],
  // 2 * 7 / 20 is exactly max_similarity, which counts as too similar.
  ['abcdefgxyz', { username: 'abcdefgqrs', email: 'q@zz.io' }, [SIMILAR_USERNAME]],
  ['abcdefxyzw', { username: 'abcdefgqrs', email: 'q@zz.io' }, []]
]

t.test('matches Django on a table of tricky passwords', async t => {
  for (const [password, user, expected] of djangoCases) {
    t.same(validatePassword(password, user), expected, JSON.stringify({ password, user }))
  }
})

// From Django 4.2.28's MinimumLengthValidator(min_length).validate().
const minimumLengthCases: Array<[string, number, string | undefined]> = [
  ['', 1, 'This password is too short. It must contain at least 1 character.'],
  ['a', 1, undefined],
  ['abc', 4, 'This password is too short. It must contain at least 4 characters.'],
  ['abcd', 4, undefined],
  ['😀', 2, 'This password is too short. It must contain at least 2 characters.'],
  ['😀😀', 2, undefined]
]

t.test('minimum length is configurable and pluralised as Django does', async t => {
  for (const [password, minLength, expected] of minimumLengthCases) {
    const errors = validatePassword(password, plain, { minLength })
    const tooShort = errors.filter(error => error.startsWith('This password is too short.'))
    t.same(tooShort, expected === undefined ? [] : [expected], JSON.stringify({ password, minLength }))
  }
})

t.test('every entry of the shipped list is refused as common', async t => {
  const text = gunzipSync(readFileSync(join(projectRoot, 'src/auth/common-passwords.txt.gz'))).toString('utf8')
  const entries = text.trimEnd().split('\n')
  t.ok(entries.length >= 20000, `${entries.length} entries`)
  const refused = entries.filter(entry => validatePassword(entry, plain).includes(TOO_COMMON))
  t.equal(refused.length, entries.length)
})

t.test('PASSWORD_MAX_LENGTH is the User.password max_length', async t => {
  t.equal(PASSWORD_MAX_LENGTH, 128)
})
