import t from 'tap'
import { csrfProblem } from '../src/auth/csrf.js'
import { configWith, ConfigError } from '../src/config.js'
import { allowedOrigins } from '../src/origins.js'
import { buildTestApp, obtainPair, PASSWORD, post, registerUser } from './helpers/app.js'

// REFRESH_TOKEN_COOKIE: obtain and refresh set the refresh token as an
// HttpOnly cookie; refresh and blacklist read it when the body has none,
// behind the CSRF checks (the header, and Origin in CORS_ORIGINS).

const APP_ORIGIN = 'https://app.example.com'
const COOKIE = { refreshTokenCookie: true, corsOrigins: `${APP_ORIGIN}/, https://other.example.com` }
const BROWSER = { 'x-requested-with': 'XMLHttpRequest', origin: APP_ORIGIN }

function cookieOf (setCookie: string | string[] | undefined): { value: string, attributes: string } {
  const line = ([] as string[]).concat(setCookie ?? [])[0] ?? ''
  const [pair, ...attributes] = line.split('; ')
  return { value: pair!.slice(pair!.indexOf('=') + 1), attributes: attributes.join('; ') }
}

t.test('obtain and refresh set the cookie; refresh and blacklist read it behind the CSRF checks', async t => {
  const app = await buildTestApp(t, { ...COOKIE, refreshTokenCookieDomain: 'example.com' })
  await registerUser(app)
  const login = await post(app, '/api/token/', { username: 'alice', password: PASSWORD })
  const pair = login.json()
  t.same(Object.keys(pair), ['refresh', 'access'], 'the body stays as COMPAT.md says')
  const set = cookieOf(login.headers['set-cookie'])
  t.equal(set.value, pair.refresh)
  t.equal(set.attributes, 'Max-Age=86400; Domain=example.com; Path=/api/token/; HttpOnly; Secure; SameSite=Strict')

  const refreshed = await post(app, '/api/token/refresh/', {}, { ...BROWSER, cookie: `tessera_refresh=${pair.refresh}` })
  t.equal(refreshed.statusCode, 200)
  t.same(Object.keys(refreshed.json()), ['access'], 'a cookie refresh never shows the page a refresh token')
  const next = cookieOf(refreshed.headers['set-cookie'])
  t.not(next.value, pair.refresh, 'the rotated token goes to the cookie')
  t.match(next.attributes, /HttpOnly; Secure; SameSite=Strict/)
  t.equal((await post(app, '/api/token/refresh/', '', { ...BROWSER, cookie: `tessera_refresh=${pair.refresh}` })).body,
    '{"detail":"Token is blacklisted","code":"token_not_valid"}', 'the old cookie value is rotated away')

  for (const [headers, detail] of [
    [{ origin: APP_ORIGIN }, 'CSRF Failed: the X-Requested-With: XMLHttpRequest header is missing.'],
    [{ 'x-requested-with': 'fetch', origin: APP_ORIGIN }, 'CSRF Failed: the X-Requested-With: XMLHttpRequest header is missing.'],
    [{ 'x-requested-with': 'XMLHttpRequest' }, 'CSRF Failed: Origin checking failed - no Origin.'],
    [{ 'x-requested-with': 'XMLHttpRequest', origin: 'https://evil.example' }, 'CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins.']
  ] as const) {
    for (const url of ['/api/token/refresh/', '/api/token/blacklist/']) {
      const refused = await post(app, url, 'x=1', { ...headers, cookie: `tessera_refresh=${next.value}`, 'content-type': 'application/x-www-form-urlencoded' })
      t.equal(refused.statusCode, 403, `${url}: ${detail}`)
      t.same(refused.json(), { detail })
    }
  }

  // A body token wins over the cookie and needs no CSRF header (it cannot be forged cross-site).
  const withBody = await post(app, '/api/token/refresh/', { refresh: next.value }, { cookie: 'tessera_refresh=ignored' })
  t.same(Object.keys(withBody.json()), ['access', 'refresh'])
  const latest = withBody.json().refresh

  const loggedOut = await post(app, '/api/token/blacklist/', {}, { ...BROWSER, cookie: `tessera_refresh=${latest}` })
  t.equal(loggedOut.body, '{}')
  t.match(cookieOf(loggedOut.headers['set-cookie']), { value: '', attributes: /Expires=Thu, 01 Jan 1970/ }, 'the cookie is cleared')
  t.equal((await post(app, '/api/token/refresh/', { refresh: latest })).statusCode, 401)

  const other = await obtainPair(app)
  const bodyBlacklist = await post(app, '/api/token/blacklist/', { refresh: other.refresh })
  t.equal(bodyBlacklist.headers['set-cookie'], undefined, 'a body blacklist leaves the cookie alone')

  // /api/token/logout/ (Bearer): local and global clear the cookie, others leaves it.
  for (const scope of ['others', 'local', 'global']) {
    const pair = await obtainPair(app)
    const loggedOut = await post(app, '/api/token/logout/', { scope }, { authorization: `Bearer ${pair.access}` })
    t.equal(loggedOut.statusCode, 204)
    if (scope === 'others') t.equal(loggedOut.headers['set-cookie'], undefined, scope)
    else t.match(cookieOf(loggedOut.headers['set-cookie']), { value: '', attributes: /Path=\/api\/token\/.*Expires=Thu, 01 Jan 1970/ }, scope)
  }
})

t.test('without the cookie (or with cookie mode off) a missing body field is the usual 400', async t => {
  const on = await buildTestApp(t, COOKIE)
  const off = await buildTestApp(t)
  await registerUser(off)
  const login = await post(off, '/api/token/', { username: 'alice', password: PASSWORD })
  t.equal(login.headers['set-cookie'], undefined, 'off by default: no cookie')
  for (const app of [on, off]) {
    for (const url of ['/api/token/refresh/', '/api/token/blacklist/']) {
      // On: the cookie is read (here a bad token). Off: a valid token in the cookie is ignored.
      const cookie = `tessera_refresh=${app === on ? 'not-a-token' : login.json().refresh}; other=1`
      t.equal((await post(app, url, {}, { ...BROWSER, cookie })).body,
        app === on ? '{"detail":"Token is invalid or expired","code":"token_not_valid"}' : '{"refresh":["This field is required."]}', url)
      t.equal((await post(app, url, {}, BROWSER)).body, '{"refresh":["This field is required."]}')
      t.equal((await post(app, url, { refresh: '' }, { ...BROWSER, cookie: 'tessera_refresh=' })).body, '{"refresh":["This field may not be blank."]}')
      t.equal((await post(app, url, '[1]', { ...BROWSER, 'content-type': 'application/json' })).body,
        '{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}')
    }
  }
  t.equal((await post(on, '/api/token/refresh/', '', { ...BROWSER, cookie: 'tessera_refresh=' })).statusCode, 400, 'an empty cookie is no cookie')
})

t.test('the cookie name is configurable; the CSRF rules and the allow-list on their own', async t => {
  const app = await buildTestApp(t, { ...COOKIE, refreshTokenCookieName: 'rt' })
  await registerUser(app)
  const login = await post(app, '/api/token/', { username: 'alice', password: PASSWORD })
  t.match(login.headers['set-cookie'], /^rt=/)
  t.equal((await post(app, '/api/token/refresh/', {}, { ...BROWSER, origin: 'https://other.example.com', cookie: `rt=${login.json().refresh}` })).statusCode, 200)

  t.same(allowedOrigins({ corsOrigins: ' https://a.example/ ,, https://b.example:8443//' }), ['https://a.example', 'https://b.example:8443'])
  t.same(allowedOrigins({}), [])
  t.throws(() => configWith({ refreshTokenCookie: true }), new ConfigError('REFRESH_TOKEN_COOKIE needs CORS_ORIGINS: cookie requests are accepted only from an allowed Origin (a same-origin app lists its own)'))
  t.throws(() => configWith({ refreshTokenCookie: true, corsOrigins: ' ' }), ConfigError)
  t.equal(csrfProblem({ 'x-requested-with': 'XMLHttpRequest', origin: 'https://a.example' }, ['https://a.example']), null)
  t.match(csrfProblem({ 'x-requested-with': 'XMLHttpRequest', origin: ['https://a.example'] }, ['https://a.example']), /no Origin/)
  t.match(csrfProblem({ 'x-requested-with': 'XMLHttpRequest', origin: 'null' }, ['https://a.example']), /null does not match/)
})
