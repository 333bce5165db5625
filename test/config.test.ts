import t from 'tap'
import { configWith, loadConfig } from '../src/config.js'

t.test('defaults match the issue and SimpleJWT', async t => {
  const config = loadConfig({})
  t.equal(config.port, 8000)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.dataDir, './data')
  t.equal(config.jwtAlgorithm, 'HS256')
  t.equal(config.accessTokenLifetime, 300)
  t.equal(config.refreshTokenLifetime, 86400)
  t.equal(config.rotateRefreshTokens, true)
  t.equal(config.blacklistAfterRotation, true)
  t.equal(config.updateLastLogin, false)
  t.equal(config.argon2MemoryKib, 19456)
  t.equal(config.argon2Iterations, 2)
  t.equal(config.argon2Parallelism, 1)
  t.equal(config.hashThreadNice, 10)
  t.equal(config.logLevel, 'info')
  t.equal(config.userCacheTtl, 60)
  t.equal(config.databaseUrl, undefined)
  t.equal(config.jwtSigningKey, undefined)
})

t.test('environment variables are read by their kind', async t => {
  const config = loadConfig({
    PORT: '9000',
    ACCESS_TOKEN_LIFETIME: '15m',
    REFRESH_TOKEN_LIFETIME: '2d',
    ROTATE_REFRESH_TOKENS: 'false',
    UPDATE_LAST_LOGIN: 'yes',
    BLACKLIST_AFTER_ROTATION: '0',
    DATABASE_URL: 'postgres://x@localhost/db',
    JWT_SIGNING_KEY: 'k'.repeat(32),
    LOG_LEVEL: 'warn',
    HOST: '0.0.0.0',
    DATA_DIR: ''
  })
  t.equal(config.port, 9000)
  t.equal(config.accessTokenLifetime, 900)
  t.equal(config.refreshTokenLifetime, 172800)
  t.equal(config.rotateRefreshTokens, false)
  t.equal(config.updateLastLogin, true)
  t.equal(config.blacklistAfterRotation, false)
  t.equal(config.databaseUrl, 'postgres://x@localhost/db')
  t.equal(config.logLevel, 'warn')
  t.equal(config.host, '0.0.0.0')
  t.equal(config.dataDir, './data', 'an empty variable counts as unset')
  t.equal(loadConfig({ ACCESS_TOKEN_LIFETIME: '45' }).accessTokenLifetime, 45)
  t.equal(loadConfig({ ACCESS_TOKEN_LIFETIME: '1h' }).accessTokenLifetime, 3600)
  t.equal(loadConfig({ ACCESS_TOKEN_LIFETIME: '30s' }).accessTokenLifetime, 30)
})

t.test('a bad value stops start-up naming the variable and what it accepts', async t => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'eighty' }, /PORT="eighty" is not valid: expected a TCP port/],
    [{ PORT: '70000' }, /PORT="70000"/],
    [{ ACCESS_TOKEN_LIFETIME: '5 minutes' }, /ACCESS_TOKEN_LIFETIME="5 minutes" is not valid: expected a positive duration/],
    [{ ACCESS_TOKEN_LIFETIME: '0' }, /ACCESS_TOKEN_LIFETIME="0"/],
    [{ ROTATE_REFRESH_TOKENS: 'maybe' }, /ROTATE_REFRESH_TOKENS="maybe" is not valid: expected true or false/],
    [{ JWT_SIGNING_KEY: 'short' }, /JWT_SIGNING_KEY="short" is not valid: expected a secret of at least 32 bytes/],
    [{ JWT_ALGORITHM: 'none' }, /JWT_ALGORITHM="none" is not valid: expected HS256, HS384 or HS512/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL="mysql:\/\/x"/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud"/],
    [{ ARGON2_MEMORY_KIB: '12' }, /ARGON2_MEMORY_KIB="12"/]
  ]
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), message)
    t.throws(() => loadConfig(env), { name: 'ConfigError' })
  }
  t.throws(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'y' }), /PORT[^]*\n[^]*LOG_LEVEL/, 'every bad variable is named at once')
})

t.test('configWith fills defaults around overrides', async t => {
  const config = configWith({ port: 0, jwtSigningKey: 'x'.repeat(40) })
  t.equal(config.port, 0)
  t.equal(config.accessTokenLifetime, 300)
  t.throws(() => configWith({ jwtSigningKey: 'short' }), /JWT_SIGNING_KEY/)
})
