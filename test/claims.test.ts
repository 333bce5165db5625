import t from 'tap'
import { checkClaims, jtiOf, mintClaims, newJti, userIdOf } from '../src/tokens/claims.js'

const NOW = 1_800_000_000
const valid = () => mintClaims('access', 7, NOW - 10, 300) as Record<string, unknown>

t.test('minted claims are in SimpleJWT order', async t => {
  const claims = mintClaims('refresh', 3, NOW, 86400)
  t.same(Object.keys(claims), ['token_type', 'exp', 'iat', 'jti', 'user_id'])
  t.equal(claims.exp, NOW + 86400)
  t.match(newJti(), /^[0-9a-f]{32}$/)
  t.not(newJti(), newJti())
})

t.test('checks in SimpleJWT order', async t => {
  t.equal(checkClaims(valid(), 'access', NOW), null)
  t.equal(checkClaims(valid(), null, NOW), null, 'untyped: any type')
  t.equal(checkClaims({ ...valid(), exp: NOW }, 'access', NOW), 'Token is invalid or expired', 'exp == now has expired')
  t.equal(checkClaims({ ...valid(), exp: 'soon' }, 'access', NOW), 'Token is invalid or expired')
  t.equal(checkClaims({ ...valid(), iat: NOW + 1 }, 'access', NOW), 'Token is invalid or expired', 'iat in the future')
  t.equal(checkClaims({ ...valid(), iat: null }, 'access', NOW), 'Token is invalid or expired')
  t.equal(checkClaims({ ...valid(), nbf: NOW + 5 }, 'access', NOW), 'Token is invalid or expired')
  t.equal(checkClaims({ ...valid(), nbf: NOW }, 'access', NOW), null)
  const { exp: _exp, ...noExp } = valid()
  t.equal(checkClaims(noExp, 'access', NOW), "Token has no 'exp' claim")
  const { jti: _jti, ...noJti } = valid()
  t.equal(checkClaims(noJti, 'access', NOW), 'Token has no id')
  t.equal(checkClaims({ ...valid(), jti: {} }, 'access', NOW), 'Token is invalid or expired')
  const { token_type: _type, ...noType } = valid()
  t.equal(checkClaims(noType, 'access', NOW), 'Token has no type')
  t.equal(checkClaims(noType, null, NOW), null)
  t.equal(checkClaims(valid(), 'refresh', NOW), 'Token has wrong type')
})

t.test('jti and user_id as simplejwt reads them', async t => {
  t.equal(jtiOf({ jti: 'abc' }), 'abc')
  t.equal(jtiOf({ jti: 42 }), '42')
  t.equal(jtiOf({ jti: '' }), null)
  t.equal(jtiOf({ jti: 'x'.repeat(256) }), null)
  t.equal(jtiOf({ jti: Number.NaN }), null)
  t.equal(userIdOf({}), undefined)
  t.equal(userIdOf({ user_id: 5 }), 5)
  t.equal(userIdOf({ user_id: '5' }), 5, 'a string user_id is accepted')
  t.equal(userIdOf({ user_id: 'five' }), null)
  t.equal(userIdOf({ user_id: 0 }), null)
  t.equal(userIdOf({ user_id: 2 ** 31 }), null)
  t.equal(userIdOf({ user_id: 1.5 }), null)
  t.equal(userIdOf({ user_id: null }), null)
})
