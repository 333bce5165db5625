import t from 'tap'
import {
  EMAIL_INVALID,
  EMAIL_MAX_LENGTH,
  USERNAME_INVALID,
  USERNAME_MAX_LENGTH,
  USERNAME_TAKEN,
  isValidEmail,
  isValidUsername,
  normalizeEmail,
  normalizeUsername
} from '../src/users/fields.js'

// Every expectation in these tables is what Django 4.2.28 (Debian trixie's
// python3-django) answered: validate_email(), UnicodeUsernameValidator(),
// AbstractBaseUser.normalize_username() and BaseUserManager.normalize_email().
// Django 3.2.25 (Debian bookworm) gives the same answers for all of them.

const djangoEmails: Array<[string, boolean]> = [
  ['email@here.com', true],
  ['weirder-email@here.and.there.com', true],
  ['email@[127.0.0.1]', true],
  ['email@[2001:dB8::1]', true],
  ['email@[2001:dB8:0:0:0:0:0:1]', true],
  ['email@[::fffF:127.0.0.1]', true],
  ['example@valid-----hyphens.com', true],
  ['example@valid-with-hyphens.com', true],
  ['test@domain.with.idn.tld.उद\u093eहरण.पर\u0940क\u094dष\u093e', true],
  ['email@localhost', true],
  ['"test@test"@example.com', true],
  ['example@atm.' + 'a'.repeat(63), true],
  ['example@atm.' + 'a'.repeat(64), false],
  ['example@' + 'a'.repeat(63) + '.atm', true],
  ['example@' + 'a'.repeat(64) + '.atm', false],
  ['"\\\t"@here.com', true],
  ['"\\\n"@here.com', false],
  ['a@[127.0.0.256]', false],
  ['a@[01.2.3.4]', false],
  ['example@invalid-.com', false],
  ['example@-invalid.com', false],
  ['example@invalid.com-', false],
  ['example@inv-.alid-.com', false],
  ['example@inv-.-alid.com', false],
  ['test@example.com\n\n<script src="x.js">', false],
  ['trailingdot@shouldfail.com.', false],
  ['a@b.com\n', false],
  ['a\n@b.com', false],
  ['"test@test"\n@example.com', false],
  ['a@[127.0.0.1]\n', false],
  ['', false],
  ['abc', false],
  ['@', false],
  ['abc@', false],
  ['@abc.com', false],
  ['abc@bar', false],
  ['abc@.com', false],
  ['something@@somewhere.com', false],
  ['email@127.0.0.1', false],
  ['email@[2001:db8::12345]', false],
  ['email@[2001:db8:0:0:0:0:1]', false],
  ['email@[::ffff:127.0.0.256]', false],
  ['email@[2001:dg8::1]', false],
  ['email@[::fTzF:127.0.0.1]', false],
  ['example@.com', false],
  // Under re.IGNORECASE Python's [A-Z] also matches İ, ı, ſ and K (Kelvin).
  ['\u0131@example.com', true],
  ['"\u017f"@example.com', true],
  ['a@\u212a.com', true],
  ['a@\u0131.\u017fk', true],
  ['\u0130@example.com', true],
  // Internationalised domains, retried after Python's IDNA 2003 codec.
  ['a@ü.123', true],
  ['a@\uff11\uff12\uff13', false],
  ['a@ü%41.com', false],
  ['a@ex%41mple.com', false],
  ['a@exämple.com', true],
  ['a@EXÄMPLE.COM', true],
  ['a@xn--exmple-cua.com', true],
  ['a@ü\u3002com', true],
  ['a@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com', true],
  ['a@straße.de', true],
  ['a@ü.0x7f', true],
  ['a@a\u2024b.com', true],
  ['a@ü.\uff11\uff12\uff13', true],
  ['a@\uff11\uff12\uff13.ü', true],
  // The 320 limit counts code points, as Python's len() does.
  ['a'.repeat(308) + '@example.com', true],
  ['a'.repeat(309) + '@example.com', false],
  ['a'.repeat(310) + '@😀😀😀😀😀.com', true],
  ['a'.repeat(311) + '@😀😀😀😀😀.com', false],
  // Address literals; Django caps IPv6 strings at 39 characters.
  ['a@[0000:0000:0000:0000:0000:ffff:255.255.255.255]', false],
  ['a@[0:0:0:0:0:ffff:255.255.255.255]', true],
  ['a@[1:2:3:4::5:6:7:8]', false],
  ['a@[::1.2.3.4]', true],
  ['a@[1::2::3]', false],
  ['a@[::]', true],
  ['a@[1.2.3]', false],
  ['a@[1.2.3.4.5]', false],
  ['a@[0.0.0.0]', true],
  ['a@[::ffff:1.2.3.04]', false],
  ['a@[1:2:3:4:5:6:7:8]', true],
  ['a@[1:2:3:4:5:6:7:8:9]', false],
  ['a@[12345::]', false],
  ['a@[:1::]', false],
  ['a@[fe80::1%1]', false],
  ['a@[a::b]', true],
  ['a@[A::B]', true],
  ['a@[::1.2.3.4:5]', false],
  // Quoted local parts: a bare space is not qtext, a quoted pair is.
  ['"a b"@example.com', false],
  ['"a\\ b"@example.com', true],
  ['"a\\"b"@x.com', true],
  ['""@example.com', true],
  ['"\u007f"@x.com', true],
  ['"\u0080"@x.com', false],
  ['"a"b"@x.com', false],
  ['"a\\"@x.com', false],
  ['jürgen@example.com', false],
  ['.a@x.com', false],
  ['a.@x.com', false],
  ['a..b@x.com', false],
  ['a.b@x.com', true],
  ['a@b.c', false],
  ['a@b.co-', false],
  ['a@b.123', true],
  ['!#$%&\'*+/=?^_`{}|~-@x.com', true],
  ['a@b.' + 'c'.repeat(63), true],
  ['a@b.' + 'c'.repeat(64), false],
  ['a@EXAMPLE.COM', true],
  ['a@LOCALHOST', false],
  ['a@localhost\n', false],
  ['a@-ü.com', true],
  ['a@ü-.com', true],
  ['a@ü_.com', false],
  ['a@☃.com', true],
  ['a@ü..com', false],
  ['a@xn--ü.com', false],
  ['a@ü.xn--zz.com', true],
  ['a@ü b.com', false],
  ['a@\uff05\uff14\uff11ü.com', false],
  ['a@' + 'ü'.repeat(60) + '.com', false],
  ['a@ü.com.', false],
  // Nameprep's own mappings, which UTS #46 does not share.
  ['a@ü\u200d.com', true],
  ['a@1\u206423', false],
  ['a@ü.1\u00ad23', true],
  ['a@\u2488com', true],
  ['a@ü\ufe0f.com', true],
  ['a@1\u00ad23', false],
  ['a@x.1\u00ad23', true],
  ['a@ü\u200c.com', true],
  ['a@क\u094d\u200d.com', true],
  ['a@-xß.com', false],
  ['a@-ς.com', true],
  ['a@-xς.com', true],
  ['a@ßü.com', true],
  ['a@-ẞ.com', false],
  ['a@xß-.com', false]
]

t.test('isValidEmail matches Django\'s validate_email', async t => {
  for (const [email, valid] of djangoEmails) {
    t.equal(isValidEmail(email), valid, JSON.stringify(email))
  }
})

const djangoUsernames: Array<[string, boolean]> = [
  ['john', true],
  ['john.smith@x+y-z_', true],
  ['Jürgen', true],
  ['名前', true],
  ['ह\u093fन\u094dद\u0940', false],
  ['e\u0301', false],
  ['john smith', false],
  ['john\n', false],
  ['', false],
  ['a/b', false],
  ['٣٤٥', true],
  ['Ⅻ', true],
  ['½', true],
  ['ǅ', true],
  ['😀', false],
  ['_', true],
  ['\ufb01', true],
  ['a\u200d', false],
  ['ab\u200b', false],
  ['Ⓐ', false],
  ['é', true],
  ['a\u0300', false],
  ['ก\u0e34', false],
  ['𝐀', true],
  ['⁰', true]
]

t.test('isValidUsername matches Django\'s UnicodeUsernameValidator', async t => {
  for (const [username, valid] of djangoUsernames) {
    t.equal(isValidUsername(username), valid, JSON.stringify(username))
  }
})

const djangoNormalizedUsernames: Array<[string, string]> = [
  ['\ufb01', 'fi'],
  ['\uff2a\uff4f\uff48\uff4e', 'John'],
  ['e\u0301', 'é'],
  ['\u212b', 'Å'],
  ['²', '2'],
  ['john', 'john'],
  ['ẛ\u0323', 'ṩ']
]

t.test('normalizeUsername applies NFKC as Django does', async t => {
  for (const [username, normalized] of djangoNormalizedUsernames) {
    t.equal(normalizeUsername(username), normalized, JSON.stringify(username))
  }
})

const djangoNormalizedEmails: Array<[string, string]> = [
  ['John@EXAMPLE.COM', 'John@example.com'],
  ['  a@B.com  ', 'a@b.com'],
  [' nobody ', ' nobody '],
  ['a@b@C.COM', 'a@b@c.com'],
  ['\ufeffa@B.com', '\ufeffa@b.com'],
  ['a@B.com\u001f', 'a@b.com'],
  ['', ''],
  ['A@ÄB.COM', 'A@äb.com'],
  ['nobody', 'nobody'],
  ['\u0085x@Y.Z\u0085', 'x@y.z'],
  ['a@\u0130.COM', 'a@i\u0307.com']
]

t.test('normalizeEmail strips and lowercases the domain as Django does', async t => {
  for (const [email, normalized] of djangoNormalizedEmails) {
    t.equal(normalizeEmail(email), normalized, JSON.stringify(email))
  }
})

t.test('messages and lengths are Django\'s', async t => {
  t.equal(USERNAME_INVALID, 'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.')
  t.equal(EMAIL_INVALID, 'Enter a valid email address.')
  t.equal(USERNAME_TAKEN, 'A user with that username already exists.')
  t.equal(USERNAME_MAX_LENGTH, 150)
  t.equal(EMAIL_MAX_LENGTH, 254)
})
