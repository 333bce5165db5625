import t from 'tap'
import { writeKeySetFile } from '../src/auth/key-set.js'
import { VerifiedTokenCache } from '../src/auth/verified-tokens.js'
import { setUserActive } from '../src/users/accounts.js'
import { buildTestApp, get, obtainPair, PASSWORD, post, registerUser } from './helpers/app.js'
import { writeTestKeySet } from './helpers/keys.js'

// The verified-token cache (VERIFIED_TOKEN_CACHE_SIZE, on by default) keeps
// only what a signature proves: every revocation still refuses a token that
// it holds, and it never answers for an expired token or a retired key.

const BLACKLISTED = /"message":"Token is blacklisted"/

t.test('bounded, oldest out first; an expired entry is dropped; size 0 keeps nothing', async t => {
  let now = 1000
  const cache = new VerifiedTokenCache(2, () => now)
  cache.set('a', { exp: 1001 })
  cache.set('b', { exp: 2000 })
  cache.set('c', { exp: 2000 })
  t.equal(cache.size, 2)
  t.equal(cache.get('a'), undefined, 'the oldest went')
  t.same(cache.get('b'), { exp: 2000 })
  cache.set('a', { exp: 1001 })
  t.equal(cache.get('b'), undefined, 'no reordering on a hit: b was the oldest')
  now = 1001
  t.equal(cache.get('a'), undefined, 'never past exp')
  t.equal(cache.size, 1, 'the expired entry left')
  cache.set('no-exp', { jti: 'x' })
  t.same(cache.get('no-exp'), { jti: 'x' }, 'a token without exp is kept (the claim checks refuse it)')
  t.ok(Object.isFrozen(cache.get('c')), 'payloads are shared, so frozen')
  t.same(cache.set('r', { exp: 2000, token_type: 'refresh' }), { exp: 2000, token_type: 'refresh' })
  t.equal(cache.get('r'), undefined, 'refresh tokens are not kept')
  t.same(cache.get('c'), { exp: 2000 }, 'and push nothing out')

  const off = new VerifiedTokenCache(0, () => now)
  t.same(off.set('a', { exp: 2000 }), { exp: 2000 })
  t.equal(off.size, 0)
  t.equal(off.get('a'), undefined)
})

t.test('a cached token is refused once its session ends, its user is deactivated, or its password changes', async t => {
  const app = await buildTestApp(t)
  const id = await registerUser(app)

  const loggedOut = await obtainPair(app)
  t.equal((await get(app, '/protected/', loggedOut.access)).statusCode, 200)
  t.equal((await get(app, '/protected/', loggedOut.access)).statusCode, 200)
  t.ok(app.verifiedTokens.size >= 1, 'the token is cached')
  t.equal((await post(app, '/api/token/blacklist/', { refresh: loggedOut.refresh })).statusCode, 200)
  const ended = await get(app, '/protected/', loggedOut.access)
  t.equal(ended.statusCode, 401, 'session ended')
  t.match(ended.body, BLACKLISTED)
  t.equal((await post(app, '/api/token/verify/', { token: loggedOut.access })).statusCode, 400, 'verify says blacklisted too')

  const kept = await obtainPair(app)
  const other = await obtainPair(app)
  t.equal((await get(app, '/protected/', other.access)).statusCode, 200)
  const changed = await app.inject({
    method: 'POST',
    url: '/api/users/me/password/',
    payload: { old_password: PASSWORD, new_password: 'violet-Otter-lantern-42' },
    headers: { authorization: `Bearer ${kept.access}` }
  })
  t.equal(changed.statusCode, 204)
  t.match((await get(app, '/protected/', other.access)).body, BLACKLISTED, 'password changed: the other session ends')
  t.equal((await get(app, '/protected/', kept.access)).statusCode, 200, 'the current one lives')

  await setUserActive(app.accounts, id, false)
  const inactive = await get(app, '/protected/', kept.access)
  t.equal(inactive.statusCode, 401, 'user deactivated')
  t.equal(inactive.body, '{"detail":"User is inactive","code":"user_inactive"}')
})

t.test('a cached token is refused once it expires', async t => {
  const app = await buildTestApp(t, { accessTokenLifetime: 1 })
  await registerUser(app)
  const { access } = await obtainPair(app)
  t.equal((await get(app, '/protected/', access)).statusCode, 200)
  const deadline = Date.now() + 5000
  let status = 200
  while (status === 200 && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 100))
    status = (await get(app, '/protected/', access)).statusCode
  }
  t.equal(status, 401, 'refused once exp has passed')
})

t.test('a cached token of a retired key is refused after the key set reloads', async t => {
  const { path, file } = writeTestKeySet(t, ['HS256', 'HS256'])
  const app = await buildTestApp(t, { jwtKeys: path })
  await registerUser(app)
  const { access } = await obtainPair(app)
  t.equal((await get(app, '/protected/', access)).statusCode, 200)
  t.ok(app.verifiedTokens.size >= 1)

  // Rotate to the second key, then retire the first (what keys:rotate and keys:retire write).
  const [first, second] = file.keys as [typeof file.keys[0], typeof file.keys[0]]
  writeKeySetFile(path, { signing: second.kid, keys: [second] })
  app.keySet.reload()
  t.equal(app.verifiedTokens.size, 0, 'the reload emptied the cache')
  t.not(first.kid, second.kid)
  const refused = await get(app, '/protected/', access)
  t.equal(refused.statusCode, 401, 'the retired key verifies nothing')
  t.match(refused.body, /Token is invalid or expired/)
  t.equal((await get(app, '/protected/', (await obtainPair(app)).access)).statusCode, 200, 'the new key works')
})

t.test('VERIFIED_TOKEN_CACHE_SIZE=0: nothing is kept, tokens still verify', async t => {
  const app = await buildTestApp(t, { verifiedTokenCacheSize: 0 })
  await registerUser(app)
  const { access } = await obtainPair(app)
  t.equal((await get(app, '/protected/', access)).statusCode, 200)
  t.equal((await get(app, '/protected/', access)).statusCode, 200)
  t.equal(app.verifiedTokens.size, 0)
})
