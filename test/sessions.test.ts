import t from 'tap'
import { deleteUser, setUserActive } from '../src/users/accounts.js'
import { inProcessChannel } from '../src/sessions/channel.js'
import { RevocationState } from '../src/sessions/revocation.js'
import { reloadRevocationState, isSessionEnded } from '../src/sessions/service.js'
import { buildTestApp, get, obtainPair, PASSWORD, post, registerUser } from './helpers/app.js'
import { decodePayload } from './helpers/jwt.js'

// Sessions: what ends them (logout, the sessions routes, a password change, a
// replayed refresh token, deactivation, deletion), and that an ended session's
// access tokens are refused at once.

const ENDED = '{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":' +
  '[{"token_class":"AccessToken","token_type":"access","message":"Token is blacklisted"}]}'
const BLACKLISTED = '{"detail":"Token is blacklisted","code":"token_not_valid"}'
const NO_ACTIVE_ACCOUNT = '{"detail":"No active account found for the given token.","code":"no_active_account"}'
const bearer = (access: string) => ({ authorization: `Bearer ${access}` })
const del = (app: Awaited<ReturnType<typeof buildTestApp>>, url: string, access: string) =>
  app.inject({ method: 'DELETE', url, headers: bearer(access) })
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

t.test('blacklisting a refresh token ends its session: its access tokens are refused too', async t => {
  const app = await buildTestApp(t)
  await registerUser(app)
  const pair = await obtainPair(app)
  const other = await obtainPair(app)
  t.equal((await get(app, '/protected/', pair.access)).statusCode, 200)
  t.equal((await post(app, '/api/token/blacklist/', { refresh: pair.refresh })).body, '{}')
  const refused = await get(app, '/protected/', pair.access)
  t.equal(refused.statusCode, 401)
  t.equal(refused.body, ENDED)
  t.equal(refused.headers['www-authenticate'], 'Bearer realm="api"')
  const verified = await post(app, '/api/token/verify/', { token: pair.access })
  t.equal(verified.statusCode, 400)
  t.equal(verified.body, '{"non_field_errors":["Token is blacklisted"]}')
  t.equal((await post(app, '/api/token/blacklist/', { refresh: pair.refresh })).body, BLACKLISTED)
  t.equal((await get(app, '/protected/', other.access)).statusCode, 200, 'another session lives')
  t.equal((await post(app, '/api/token/verify/', { token: other.access })).statusCode, 200)
})

t.test('POST /api/token/logout/: local (the default), others, global', async t => {
  const app = await buildTestApp(t)
  await registerUser(app)
  const [a, b, c, d] = [await obtainPair(app), await obtainPair(app), await obtainPair(app), await obtainPair(app)]

  const local = await post(app, '/api/token/logout/', undefined, bearer(a.access))
  t.equal(local.statusCode, 204)
  t.equal(local.body, '')
  t.equal((await get(app, '/protected/', a.access)).body, ENDED)
  t.equal((await post(app, '/api/token/refresh/', { refresh: a.refresh })).body, BLACKLISTED)
  t.equal((await get(app, '/protected/', b.access)).statusCode, 200)

  t.equal((await post(app, '/api/token/logout/', { scope: 'others' }, bearer(b.access))).statusCode, 204)
  t.equal((await get(app, '/protected/', b.access)).statusCode, 200, 'the current session lives')
  t.equal((await get(app, '/protected/', c.access)).body, ENDED)
  t.equal((await get(app, '/protected/', d.access)).body, ENDED)

  const e = await obtainPair(app)
  t.equal((await post(app, '/api/token/logout/', 'scope=global', { ...bearer(b.access), 'content-type': 'application/x-www-form-urlencoded' })).statusCode, 204)
  t.equal((await get(app, '/protected/', b.access)).body, ENDED)
  t.equal((await get(app, '/protected/', e.access)).body, ENDED)

  const f = await obtainPair(app)
  const bad = await post(app, '/api/token/logout/', { scope: 'everywhere' }, bearer(f.access))
  t.equal(bad.statusCode, 400)
  t.equal(bad.body, '{"scope":["\\"everywhere\\" is not a valid choice."]}')
  t.equal((await post(app, '/api/token/logout/', {})).statusCode, 401, 'needs an access token')
  t.equal((await get(app, '/api/token/logout/', f.access)).statusCode, 405)
})

t.test('an access token without a session (minted by simplejwt) has no local session; others and global still work', async t => {
  const app = await buildTestApp(t)
  const userId = await registerUser(app)
  const pair = await obtainPair(app)
  const now = Math.floor(Date.now() / 1000)
  const legacy = app.jwt.sign({ token_type: 'access', exp: now + 300, iat: now, jti: 'a'.repeat(32), user_id: userId })
  t.equal((await post(app, '/api/token/logout/', {}, bearer(legacy))).statusCode, 204)
  t.equal((await get(app, '/protected/', pair.access)).statusCode, 200)
  t.equal((await post(app, '/api/token/verify/', { token: legacy })).statusCode, 200)
  const listed = (await get(app, '/api/sessions/', legacy)).json()
  t.equal(listed.length, 1)
  t.equal(listed[0].current, false)
  t.equal((await post(app, '/api/token/logout/', { scope: 'others' }, bearer(legacy))).statusCode, 204)
  t.equal((await get(app, '/protected/', pair.access)).body, ENDED)
  t.equal((await get(app, '/protected/', legacy)).statusCode, 200, 'a token without a session lives until its exp')
})

t.test('GET /api/sessions/ and DELETE /api/sessions/{id}/', async t => {
  const app = await buildTestApp(t)
  await registerUser(app)
  await registerUser(app, 'mallory')
  const first = (await app.inject({ method: 'POST', url: '/api/token/', payload: { username: 'alice', password: PASSWORD }, headers: { 'user-agent': 'curl/8.5.0' } })).json()
  const second = await obtainPair(app)
  const theirs = await obtainPair(app, 'mallory')

  const listed = await get(app, '/api/sessions/', second.access)
  t.equal(listed.statusCode, 200)
  const sessions = listed.json()
  t.equal(sessions.length, 2)
  // Both were used within the same second: their order is not the point here.
  const current = sessions.find((s: { current: boolean }) => s.current)
  const older = sessions.find((s: { current: boolean }) => !s.current)
  t.same(Object.keys(current), ['id', 'created', 'last_used', 'expires', 'user_agent', 'ip', 'current'])
  t.equal(current.id, decodePayload(second.access).sid)
  t.equal(current.current, true)
  t.equal(older.id, decodePayload(first.access).sid)
  t.equal(older.current, false)
  t.equal(older.user_agent, 'curl/8.5.0')
  t.equal(older.ip, '127.0.0.1')
  const lifetime = Date.parse(older.expires) - Date.parse(older.created)
  t.equal(lifetime, 30 * 86400 * 1000, 'the absolute end: 30 days after the login')

  const theirId = decodePayload(theirs.access).sid as string
  for (const id of [theirId, 'f'.repeat(32), 'not-a-session-id', 'F'.repeat(32)]) {
    const missing = await del(app, `/api/sessions/${id}/`, second.access)
    t.equal(missing.statusCode, 404, id)
    t.equal(missing.body, '{"detail":"Not found."}')
  }
  t.equal((await get(app, '/protected/', theirs.access)).statusCode, 200, 'someone else\'s session lives')

  const ended = await del(app, `/api/sessions/${older.id}`, second.access)
  t.equal(ended.statusCode, 204)
  t.equal((await get(app, '/protected/', first.access)).body, ENDED)
  t.equal((await post(app, '/api/token/refresh/', { refresh: first.refresh })).body, BLACKLISTED)
  t.equal((await del(app, `/api/sessions/${older.id}/`, second.access)).statusCode, 404, 'an ended session is not found')
  t.same((await get(app, '/api/sessions/', second.access)).json().map((s: { id: string }) => s.id), [current.id])
  t.equal((await del(app, `/api/sessions/${current.id}/`, 'garbage')).statusCode, 401, 'auth comes first')
  t.equal((await post(app, `/api/sessions/${current.id}/`, {}, bearer(second.access))).statusCode, 405)
  t.equal((await app.inject({ method: 'POST', url: '/api/sessions/', headers: bearer(second.access) })).statusCode, 405)
})

t.test('POST /api/users/me/password/: other sessions end, this one lives', async t => {
  const app = await buildTestApp(t)
  await registerUser(app)
  const current = await obtainPair(app)
  const other = await obtainPair(app)
  const url = '/api/users/me/password/'

  const wrong = await post(app, url, { old_password: 'not-it-at-all', new_password: 'violet-Otter-lantern-42' }, bearer(current.access))
  t.equal(wrong.statusCode, 400)
  t.equal(wrong.body, '{"old_password":["Your old password was entered incorrectly. Please enter it again."]}')
  const weak = await post(app, url, { old_password: PASSWORD, new_password: '1234' }, bearer(current.access))
  t.equal(weak.statusCode, 400)
  t.equal(weak.body, '{"new_password":["This password is too short. It must contain at least 8 characters.","This password is too common.","This password is entirely numeric."]}')
  const missing = await post(app, url, {}, bearer(current.access))
  t.equal(missing.body, '{"old_password":["This field is required."],"new_password":["This field is required."]}')
  t.equal((await post(app, url, { old_password: PASSWORD, new_password: 'violet-Otter-lantern-42' })).statusCode, 401)
  t.equal((await get(app, '/protected/', other.access)).statusCode, 200, 'nothing ended by the failures')

  const changed = await post(app, url, { old_password: PASSWORD, new_password: 'violet-Otter-lantern-42' }, bearer(current.access))
  t.equal(changed.statusCode, 204)
  t.equal((await get(app, '/protected/', current.access)).statusCode, 200)
  t.equal((await post(app, '/api/token/refresh/', { refresh: current.refresh })).statusCode, 200)
  t.equal((await get(app, '/protected/', other.access)).body, ENDED)
  t.equal((await post(app, '/api/token/refresh/', { refresh: other.refresh })).body, BLACKLISTED)
  t.equal((await post(app, '/api/token/', { username: 'alice', password: PASSWORD })).statusCode, 401)
  t.equal((await post(app, '/api/token/', { username: 'alice', password: 'violet-Otter-lantern-42' })).statusCode, 200)
  t.equal((await get(app, url, current.access)).statusCode, 405)
})

t.test('a password change by a user deleted since their token was checked: user_not_found', async t => {
  const app = await buildTestApp(t)
  const id = await registerUser(app)
  const { access } = await obtainPair(app)
  const { changePassword } = await import('../src/users/accounts.js')
  await deleteUser(app.accounts, id)
  const error = await changePassword(app.accounts, id, PASSWORD, 'violet-Otter-lantern-42', null).catch((e: unknown) => e)
  t.match(error, { statusCode: 401, body: { code: 'user_not_found' } })
  t.equal((await get(app, '/protected/', access)).body, '{"detail":"User not found","code":"user_not_found"}')
})

t.test('reuse: inside REFRESH_TOKEN_REUSE_INTERVAL the 401 only; after it the whole session ends', async t => {
  const racing = await buildTestApp(t)
  await registerUser(racing)
  const pair = await obtainPair(racing)
  const next = (await post(racing, '/api/token/refresh/', { refresh: pair.refresh })).json()
  t.equal((await post(racing, '/api/token/refresh/', { refresh: pair.refresh })).body, BLACKLISTED)
  t.equal((await get(racing, '/protected/', next.access)).statusCode, 200, 'two tabs racing: the session lives')
  t.equal((await post(racing, '/api/token/refresh/', { refresh: next.refresh })).statusCode, 200)

  const app = await buildTestApp(t, { refreshTokenReuseInterval: 0 })
  await registerUser(app)
  const stolen = await obtainPair(app)
  const rotated = (await post(app, '/api/token/refresh/', { refresh: stolen.refresh })).json()
  await sleep(1100)
  const replay = await post(app, '/api/token/refresh/', { refresh: stolen.refresh })
  t.equal(replay.statusCode, 401)
  t.equal(replay.body, BLACKLISTED, 'the same body as any blacklisted token')
  t.equal((await get(app, '/protected/', rotated.access)).body, ENDED, 'the session\'s access tokens are refused')
  t.equal((await get(app, '/protected/', stolen.access)).body, ENDED)
  t.equal((await post(app, '/api/token/refresh/', { refresh: rotated.refresh })).body, BLACKLISTED, 'and its refresh tokens')
})

t.test('REFRESH_TOKEN_ABSOLUTE_LIFETIME caps rotation', async t => {
  const app = await buildTestApp(t, { refreshTokenAbsoluteLifetime: 2 })
  await registerUser(app)
  const pair = await obtainPair(app)
  const login = decodePayload(pair.refresh)
  t.equal((login.exp as number) - (login.iat as number), 2, 'the first refresh token ends with the session')
  const rotated = (await post(app, '/api/token/refresh/', { refresh: pair.refresh })).json()
  t.ok((decodePayload(rotated.refresh).exp as number) <= (login.exp as number), 'rotation never extends it')
  await sleep(2100)
  t.equal((await post(app, '/api/token/refresh/', { refresh: rotated.refresh })).statusCode, 401)
  t.same((await get(app, '/api/sessions/', (await obtainPair(app)).access)).json().length, 1, 'the old session is no longer listed')
})

t.test('a refresh token minted by simplejwt still refreshes, and starts a session', async t => {
  const app = await buildTestApp(t, { refreshTokenReuseInterval: 0 })
  const userId = await registerUser(app)
  const now = Math.floor(Date.now() / 1000)
  const refresh = app.jwt.sign({ token_type: 'refresh', exp: now + 3600, iat: now, jti: 'e'.repeat(32), user_id: userId })
  const refreshed = await post(app, '/api/token/refresh/', { refresh })
  t.equal(refreshed.statusCode, 200)
  const { access, refresh: next } = refreshed.json()
  const sid = decodePayload(access).sid
  t.match(sid, /^[0-9a-f]{32}$/)
  const listed = (await get(app, '/api/sessions/', access)).json()
  t.same(listed.map((s: { id: string, current: boolean }) => [s.id, s.current]), [[sid, true]])
  t.equal(listed[0].user_agent, '')
  // Its replay later is a reuse of that session too.
  await sleep(1100)
  t.equal((await post(app, '/api/token/refresh/', { refresh })).body, BLACKLISTED)
  t.equal((await get(app, '/protected/', access)).body, ENDED)
  t.equal((await post(app, '/api/token/refresh/', { refresh: next })).body, BLACKLISTED)
})

t.test('rotation off: refresh keeps the session and its token', async t => {
  const app = await buildTestApp(t, { rotateRefreshTokens: false })
  await registerUser(app)
  const pair = await obtainPair(app)
  const refreshed = (await post(app, '/api/token/refresh/', { refresh: pair.refresh })).json()
  t.same(Object.keys(refreshed), ['access'])
  t.equal(decodePayload(refreshed.access).sid, decodePayload(pair.access).sid)
  t.equal((await post(app, '/api/token/refresh/', { refresh: pair.refresh })).statusCode, 200)
})

t.test('deactivation and deletion end every session; refresh answers no_active_account', async t => {
  const app = await buildTestApp(t)
  const id = await registerUser(app)
  const a = await obtainPair(app)
  const b = await obtainPair(app)
  await setUserActive(app.accounts, id, false)
  t.equal((await get(app, '/protected/', a.access)).body, '{"detail":"User is inactive","code":"user_inactive"}')
  t.equal((await post(app, '/api/token/refresh/', { refresh: a.refresh })).body, NO_ACTIVE_ACCOUNT)
  t.equal((await post(app, '/api/token/refresh/', { refresh: b.refresh })).body, NO_ACTIVE_ACCOUNT)
  await setUserActive(app.accounts, id, true)
  t.equal((await get(app, '/protected/', b.access)).body, ENDED, 'reactivation does not revive them')
  t.equal((await post(app, '/api/token/refresh/', { refresh: b.refresh })).body, BLACKLISTED)

  const c = await obtainPair(app)
  await deleteUser(app.accounts, id)
  t.equal((await get(app, '/protected/', c.access)).body, '{"detail":"User not found","code":"user_not_found"}')
  t.equal((await post(app, '/api/token/refresh/', { refresh: c.refresh })).body, NO_ACTIVE_ACCOUNT)
})

t.test('the revocation state: loaded at start-up, pruned, distrusted until reloaded', async t => {
  // Three seconds, not one: on a loaded machine a second can pass between the login and the logout.
  const app = await buildTestApp(t, { accessTokenLifetime: 3 })
  await registerUser(app)
  const pair = await obtainPair(app)
  const sid = decodePayload(pair.access).sid as string
  await post(app, '/api/token/logout/', {}, bearer(pair.access))
  const { state } = app.sessions
  t.equal(state.size, 1)
  t.equal(state.trusted, true)

  // Not trusted (a lost connection): the database answers, the same way.
  state.distrust()
  t.equal(await isSessionEnded(app.sessions, sid), true)
  t.equal(await isSessionEnded(app.sessions, 'f'.repeat(32)), false)
  t.equal(await reloadRevocationState(app.sessions), 1)
  t.equal(state.trusted, true)
  t.equal(state.isEnded(sid), true)

  // Messages that are not Tessera's are ignored.
  await app.sessions.channel.publish(app.sessions.db, 'not json')
  await app.sessions.channel.publish(app.sessions.db, '[1]')
  t.equal(state.size, 1)

  // Once its last access token has expired, the entry leaves memory (the sweep runs each lifetime).
  for (let waited = 0; state.size > 0 && waited < 15_000; waited += 250) await sleep(250)
  t.equal(state.size, 0)
  state.apply({ ended: [[sid, Math.floor(Date.now() / 1000) - 1]] })
  t.equal(state.size, 0, 'an entry already over is not kept')
  state.apply({ ended: [[sid, Math.floor(Date.now() / 1000) + 1]] })
  await sleep(1100)
  t.equal(state.isEnded(sid), false, 'an expired entry reads as live (no access token of it can be presented)')
  t.equal(state.prune(), 0)
  state.distrust()
  t.equal(state.isEnded(sid), undefined)
  t.equal(await isSessionEnded(app.sessions, sid), false, 'from the database: ended too long ago to matter')
})

t.test('SESSION_PRUNE_INTERVAL deletes dead sessions and expired tokens in-process', async t => {
  const app = await buildTestApp(t, { sessionPruneInterval: 1, refreshTokenAbsoluteLifetime: 1 })
  await registerUser(app)
  await obtainPair(app)
  const { sessions, refreshTokens } = await import('../src/db/schema.js')
  t.equal((await app.database.db.select().from(sessions)).length, 1)
  for (let i = 0; i < 50; i++) {
    await sleep(200)
    if ((await app.database.db.select().from(sessions)).length === 0) break
  }
  t.equal((await app.database.db.select().from(sessions)).length, 0)
  t.equal((await app.database.db.select().from(refreshTokens)).length, 0)
})

t.test('a session ended or past its end while its token was being rotated: the blacklisted 401, nothing issued', async t => {
  const app = await buildTestApp(t)
  await registerUser(app)
  const { sessions } = await import('../src/db/schema.js')
  const { eq } = await import('drizzle-orm')
  // As a concurrent logout leaves it: the session row ended, the token not yet blacklisted.
  const ended = await obtainPair(app)
  await app.database.db.update(sessions).set({ endedAt: new Date() }).where(eq(sessions.id, decodePayload(ended.access).sid as string))
  t.equal((await post(app, '/api/token/refresh/', { refresh: ended.refresh })).body, BLACKLISTED)
  // A clock that disagrees: the session is past its end though the token has not expired.
  const late = await obtainPair(app)
  await app.database.db.update(sessions).set({ absoluteExpiresAt: new Date(Date.now() - 1000) }).where(eq(sessions.id, decodePayload(late.access).sid as string))
  t.equal((await post(app, '/api/token/refresh/', { refresh: late.refresh })).body, BLACKLISTED)
})

t.test('RevocationState on its own clock: an entry whose last access token has expired reads as live and leaves', async t => {
  let now = 100
  const state = new RevocationState(() => now)
  t.equal(state.isEnded('s'), undefined, 'not trusted before it is loaded')
  state.reload([['s', 110]])
  t.equal(state.isEnded('s'), true)
  t.equal(state.isEnded('t'), false)
  now = 110
  t.equal(state.isEnded('s'), false)
  t.equal(state.size, 0)
})

t.test('the in-process channel (PGlite\'s): what is published reaches every listener, until closed', async t => {
  const channel = inProcessChannel()
  const heard: string[] = []
  let listening = 0
  await channel.listen({ onMessage: payload => heard.push(payload), onListening: async () => { listening++ }, onLost: () => {} })
  const app = await buildTestApp(t)
  await channel.publish(app.database.db, '{"users":[1]}')
  await channel.close()
  await channel.publish(app.database.db, '{"users":[2]}')
  t.same(heard, ['{"users":[1]}'])
  t.equal(listening, 1)
})
