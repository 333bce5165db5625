import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import t from 'tap'
import { startServer } from './helpers/server.js'
import { isolatedEnv } from './helpers/spawn.js'

// The refresh-token cookie in a real browser (Debian's Chromium, as the
// Swagger UI test): a single-page app served from another port logs in,
// refreshes through the HttpOnly cookie, and a CSRF attempt from a page of an
// origin not in CORS_ORIGINS fails. Both pages and the API are on 127.0.0.1:
// one site (SameSite ignores ports), so the cookie is sent along and only the
// CSRF checks stand in the way. Chromium treats loopback as a secure context,
// so the Secure cookie is kept over http.

const PASSWORD = 'violet-Otter-lantern-42'
const CHROMIUM = '/usr/bin/chromium'
const missing = !existsSync(CHROMIUM)
/* c8 ignore next 2 -- which branch runs depends on the machine: CI has Chromium (and fails without it) */
if (missing && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: CI installs Debian's chromium package (.ci/run)`)
const skip = missing ? `${CHROMIUM} is missing: apt-get install chromium to run the cookie test` : false

const APP_PAGE = `<!doctype html><meta charset="utf-8"><title>spa</title><script>
  window.api = async (path, options = {}) => {
    const response = await fetch(window.API + path, {
      method: 'POST', credentials: 'include',
      headers: { 'content-type': 'application/json', 'x-requested-with': 'XMLHttpRequest', ...(options.headers ?? {}) },
      body: JSON.stringify(options.body ?? {})
    })
    return { status: response.status, body: await response.json() }
  }
</script>`

async function servePage (html: string): Promise<{ server: Server, origin: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    response.end(html)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

t.test('a single-page app on another port: login, refresh through the cookie, CSRF refused', { skip }, async t => {
  const app = await servePage(APP_PAGE)
  const evil = await servePage('<!doctype html><meta charset="utf-8"><title>evil</title>')
  t.teardown(() => { app.server.close(); evil.server.close() })
  const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-cookie-')), 'data')
  const profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'))
  t.teardown(() => {
    rmSync(join(dataDir, '..'), { recursive: true, force: true })
    rmSync(profile, { recursive: true, force: true })
  })
  const api = await startServer(isolatedEnv(dataDir, { REFRESH_TOKEN_COOKIE: 'true', CORS_ORIGINS: app.origin }))
  t.teardown(async () => {
    api.child.kill('SIGTERM')
    await api.exited
  })
  const registered = await fetch(`${api.url}/register/`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'spa', password: PASSWORD })
  })
  t.equal(registered.status, 201)

  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-quic', '--disable-gpu']
  })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(app.origin)
  await page.evaluate(url => { (window as unknown as { API: string }).API = url }, api.url)
  type Call = { status: number, body: Record<string, string> }
  const call = async (path: string, options: { body?: object, headers?: Record<string, string> } = {}) =>
    await page.evaluate(async ([path, options]) => await (window as unknown as { api: (p: string, o: object) => Promise<Call> }).api(path, options), [path, options] as const)

  const login = await call('/api/token/', { body: { username: 'spa', password: PASSWORD } })
  t.equal(login.status, 200)
  const cookies = await context.cookies(`${api.url}/api/token/`)
  t.match(cookies, [{ name: 'tessera_refresh', httpOnly: true, secure: true, sameSite: 'Strict', path: '/api/token/' }])
  t.equal(cookies[0]!.value, login.body.refresh)
  t.equal(await page.evaluate(() => document.cookie), '', 'the page\'s script cannot read it')

  const refreshed = await call('/api/token/refresh/')
  t.equal(refreshed.status, 200, 'refreshed with the cookie alone')
  t.same(Object.keys(refreshed.body), ['access'])
  const rotated = (await context.cookies(`${api.url}/api/token/`))[0]!.value
  t.not(rotated, login.body.refresh, 'the cookie holds the rotated token')
  const me = await page.evaluate(async ([url, access]) => (await fetch(`${url}/api/users/me/`, { headers: { authorization: `Bearer ${access}` } })).status, [api.url, refreshed.body.access] as const)
  t.equal(me, 200, 'the new access token works')

  const noHeader = await call('/api/token/refresh/', { headers: { 'x-requested-with': '' } })
  t.same(noHeader, { status: 403, body: { detail: 'CSRF Failed: the X-Requested-With: XMLHttpRequest header is missing.' } }, 'the app itself without the header')

  // The attacker's page, same site, another origin: a form post navigates there with the cookie, and is refused.
  const attacker = await context.newPage()
  await attacker.goto(evil.origin)
  await Promise.all([
    attacker.waitForNavigation(),
    attacker.evaluate(url => {
      const form = document.createElement('form')
      form.method = 'POST'
      form.action = `${url}/api/token/refresh/`
      document.body.append(form)
      form.submit()
    }, api.url)
  ])
  t.same(JSON.parse(await attacker.locator('body').innerText()), { detail: 'CSRF Failed: the X-Requested-With: XMLHttpRequest header is missing.' }, 'a form post is refused')
  await attacker.goto(evil.origin)
  const blocked = await attacker.evaluate(async url => {
    try {
      const response = await fetch(`${url}/api/token/refresh/`, { method: 'POST', credentials: 'include', headers: { 'x-requested-with': 'XMLHttpRequest' } })
      return `answered ${response.status}`
    } catch (error) {
      return (error as Error).name
    }
  }, api.url)
  t.equal(blocked, 'TypeError', 'a fetch with the header from another origin dies at the CORS preflight')
  const simple = await attacker.evaluate(async url => {
    try {
      await fetch(`${url}/api/token/blacklist/`, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1' })
      return 'read'
    } catch (error) {
      return (error as Error).name
    }
  }, api.url)
  t.equal(simple, 'TypeError', 'a simple cross-origin post cannot read the answer')

  t.equal((await context.cookies(`${api.url}/api/token/`))[0]!.value, rotated, 'none of it touched the cookie')
  const again = await call('/api/token/refresh/')
  t.equal(again.status, 200, 'the session survived every attempt')
  const loggedOut = await call('/api/token/blacklist/')
  t.same(loggedOut, { status: 200, body: {} })
  t.same(await context.cookies(`${api.url}/api/token/`), [], 'logging out clears the cookie')
})
