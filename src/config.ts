import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

// Every setting has one entry here: its environment variable, how the text of
// that variable is read, and the schema its value must satisfy. The Config
// type is derived from this, so nothing is declared twice.
const DURATION = /^(\d+)\s*([smhd]?)$/
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }

// ISO 8601: a date (midnight UTC), or a date and time with Z or an offset.
const LEGACY_UNTIL_PATTERN = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?$'

type Reader = 'string' | 'integer' | 'boolean' | 'duration'

const setting = <T extends TSchema>(env: string, read: Reader, schema: T, accepts: string) =>
  ({ env, read, schema, accepts })

export const settings = {
  port: setting('PORT', 'integer', Type.Integer({ minimum: 0, maximum: 65535, default: 8000 }), 'a TCP port, 0 to 65535'),
  host: setting('HOST', 'string', Type.String({ minLength: 1, default: '127.0.0.1' }), 'an address or host name to listen on'),
  databaseUrl: setting('DATABASE_URL', 'string', Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })), 'a postgres:// or postgresql:// URL'),
  dataDir: setting('DATA_DIR', 'string', Type.String({ minLength: 1, default: './data' }), 'a folder for the embedded database and the generated key, or memory:// for an in-memory database'),
  jwtSigningKey: setting('JWT_SIGNING_KEY', 'string', Type.Optional(Type.String({ minLength: 32 })), 'a secret of at least 32 bytes'),
  jwtAlgorithm: setting('JWT_ALGORITHM', 'string', Type.Union([Type.Literal('HS256'), Type.Literal('HS384'), Type.Literal('HS512')], { default: 'HS256' }), 'HS256, HS384 or HS512'),
  jwtIssuer: setting('JWT_ISSUER', 'string', Type.Optional(Type.String({ minLength: 1 })), 'the iss claim of every token (a URL, usually); tokens without it are then refused'),
  jwtAudience: setting('JWT_AUDIENCE', 'string', Type.Optional(Type.String({ minLength: 1 })), 'the aud claim of every token; tokens not meant for it are then refused'),
  jwtSubClaim: setting('JWT_SUB_CLAIM', 'boolean', Type.Boolean({ default: false }), 'true or false: tokens also carry sub, the user id as a string'),
  jwtLeeway: setting('JWT_LEEWAY', 'duration', Type.Integer({ minimum: 0, maximum: 300, default: 0 }), 'the clock skew allowed on exp, iat and nbf: 0 to 300 seconds'),
  jwtAccessTokenType: setting('JWT_ACCESS_TOKEN_TYPE', 'string', Type.Union([Type.Literal('JWT'), Type.Literal('at+jwt')], { default: 'JWT' }), 'JWT, or at+jwt for the typ header of access tokens (RFC 9068)'),
  jwtKeys: setting('JWT_KEYS', 'string', Type.Optional(Type.String({ minLength: 1 })), 'the path of a key-set file (npm run keys:generate makes one); it is watched and reloaded when it changes'),
  accessTokenLifetime: setting('ACCESS_TOKEN_LIFETIME', 'duration', Type.Integer({ minimum: 1, default: 300 }), 'a positive duration in seconds, or with an s/m/h/d suffix (300, 5m)'),
  refreshTokenLifetime: setting('REFRESH_TOKEN_LIFETIME', 'duration', Type.Integer({ minimum: 1, default: 86400 }), 'a positive duration in seconds, or with an s/m/h/d suffix (86400, 1d)'),
  rotateRefreshTokens: setting('ROTATE_REFRESH_TOKENS', 'boolean', Type.Boolean({ default: true }), 'true or false'),
  blacklistAfterRotation: setting('BLACKLIST_AFTER_ROTATION', 'boolean', Type.Boolean({ default: true }), 'true or false'),
  refreshTokenAbsoluteLifetime: setting('REFRESH_TOKEN_ABSOLUTE_LIFETIME', 'duration', Type.Integer({ minimum: 1, default: 2592000 }), 'a positive duration in seconds, or with an s/m/h/d suffix (2592000, 30d)'),
  refreshTokenReuseInterval: setting('REFRESH_TOKEN_REUSE_INTERVAL', 'duration', Type.Integer({ minimum: 0, default: 10 }), 'a duration in seconds, or with an s/m/h/d suffix (10, 10s)'),
  sessionPruneInterval: setting('SESSION_PRUNE_INTERVAL', 'duration', Type.Integer({ minimum: 0, default: 0 }), 'a duration in seconds, or with an s/m/h/d suffix (1h); 0 turns in-process pruning off'),
  updateLastLogin: setting('UPDATE_LAST_LOGIN', 'boolean', Type.Boolean({ default: false }), 'true or false'),
  argon2MemoryKib: setting('ARGON2_MEMORY_KIB', 'integer', Type.Integer({ minimum: 1024, maximum: 4194304, default: 19456 }), 'argon2id memory in KiB, 1024 to 4194304'),
  argon2Iterations: setting('ARGON2_ITERATIONS', 'integer', Type.Integer({ minimum: 1, maximum: 100, default: 2 }), 'argon2id iterations, 1 to 100'),
  argon2Parallelism: setting('ARGON2_PARALLELISM', 'integer', Type.Integer({ minimum: 1, maximum: 16, default: 1 }), 'argon2id lanes, 1 to 16'),
  verifiedTokenCacheSize: setting('VERIFIED_TOKEN_CACHE_SIZE', 'integer', Type.Integer({ minimum: 0, maximum: 10000000, default: 10000 }), 'how many verified tokens to keep in memory (about 1 KB each), 0 to 10000000; 0 turns the cache off'),
  hashConcurrency: setting('HASH_CONCURRENCY', 'integer', Type.Integer({ minimum: 0, maximum: 64, default: 0 }), 'password hashes run at once, 1 to 64, or 0 for the number of cores less one (at least 1)'),
  hashQueueLimit: setting('HASH_QUEUE_LIMIT', 'integer', Type.Integer({ minimum: 0, maximum: 100000, default: 64 }), 'password hashes that may wait for a turn, 0 to 100000; past this a request gets a 503'),
  allowMd5PasswordHashes: setting('ALLOW_MD5_PASSWORD_HASHES', 'boolean', Type.Boolean({ default: false }), 'true or false'),
  legacySimplejwtSigningKey: setting('LEGACY_SIMPLEJWT_SIGNING_KEY', 'string', Type.Optional(Type.String({ minLength: 1 })), 'the SIGNING_KEY (by default the SECRET_KEY) of the Django project being replaced'),
  legacySimplejwtUntil: setting('LEGACY_SIMPLEJWT_UNTIL', 'string', Type.Optional(Type.String({ pattern: LEGACY_UNTIL_PATTERN })), 'a date, or a date and time in UTC or with an offset (2026-12-31, 2026-12-31T12:00:00Z)'),
  userCacheTtl: setting('USER_CACHE_TTL', 'duration', Type.Integer({ minimum: 1, default: 60 }), 'a positive duration in seconds, or with an s/m/h/d suffix (60, 1m)'),
  userCacheSize: setting('USER_CACHE_SIZE', 'integer', Type.Integer({ minimum: 1, default: 100000 }), 'how many users\' states to keep in memory, at least 1'),
  logLevel: setting('LOG_LEVEL', 'string', Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }), 'fatal, error, warn, info, debug, trace or silent')
}

type Settings = typeof settings
export const ConfigSchema = Type.Object(
  Object.fromEntries(Object.entries(settings).map(([k, s]) => [k, s.schema])) as { [K in keyof Settings]: Settings[K]['schema'] }
)
export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

function readValue (read: Reader, text: string): unknown {
  switch (read) {
    case 'integer': return /^-?\d+$/.test(text) ? Number(text) : text
    case 'boolean': {
      const lower = text.toLowerCase()
      if (['true', '1', 'yes', 'on'].includes(lower)) return true
      if (['false', '0', 'no', 'off'].includes(lower)) return false
      return text
    }
    case 'duration': {
      const match = DURATION.exec(text)
      return match ? Number(match[1]) * UNIT_SECONDS[match[2]!]! : text
    }
    default: return text
  }
}

/** Defaults for every setting, overridden by the given values (tests pass these). */
export function configWith (overrides: Partial<Config> = {}): Config {
  const config = Value.Default(ConfigSchema, { ...overrides }) as Config
  assertValid(config)
  return config
}

function assertValid (config: Config): void {
  const problems: string[] = []
  for (const [key, s] of Object.entries(settings)) {
    const value = (config as Record<string, unknown>)[key]
    if (value !== undefined && !Value.Check(s.schema, value)) {
      problems.push(`${s.env}=${JSON.stringify(String(value))} is not valid: expected ${s.accepts}`)
    }
  }
  // Settings that only make sense together, checked here so that a bad pair
  // stops start-up before a database or a listener is opened.
  const { legacySimplejwtSigningKey: legacyKey, legacySimplejwtUntil: legacyUntil } = config
  if ((legacyKey === undefined) !== (legacyUntil === undefined)) {
    problems.push('LEGACY_SIMPLEJWT_SIGNING_KEY and LEGACY_SIMPLEJWT_UNTIL go together: the cut-over needs its end')
  } else if (legacyUntil !== undefined && Number.isNaN(Date.parse(legacyUntil))) {
    problems.push(`LEGACY_SIMPLEJWT_UNTIL=${JSON.stringify(legacyUntil)} is not a date`)
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'))
}

/** Reads the settings from environment variables; a bad value names the variable and what it accepts. */
export function loadConfig (env: NodeJS.ProcessEnv): Config {
  const values: Record<string, unknown> = {}
  for (const [key, s] of Object.entries(settings)) {
    const text = env[s.env]
    if (text !== undefined && text !== '') values[key] = readValue(s.read, text.trim())
  }
  return configWith(values as Partial<Config>)
}
