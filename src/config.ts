import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { allowedOrigins } from './origins.js'

// Every setting has one entry here: its environment variable, how the text of
// that variable is read, and the schema its value must satisfy. The Config
// type is derived from this, so nothing is declared twice.
const DURATION = /^(\d+)\s*([smhd]?)$/
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }

// ISO 8601: a date (midnight UTC), or a date and time with Z or an offset.
const LEGACY_UNTIL_PATTERN = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?$'

// TRUST_PROXY: a boolean, a hop count, or addresses / CIDR ranges separated by commas.
const TRUST_PROXY_PATTERN = '^(true|false|\\d{1,2}|[0-9A-Fa-f.:/]+(\\s*,\\s*[0-9A-Fa-f.:/]+)*)$'

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
  hashQueueRefusalDelay: setting('HASH_QUEUE_REFUSAL_DELAY', 'integer', Type.Integer({ minimum: 0, maximum: 10000, default: 1000 }), 'milliseconds a request refused by the full hash queue waits for its 503 (on average: between half and one and a half times this), 0 to 10000; 0 answers at once'),
  hashThreadNice: setting('HASH_THREAD_NICE', 'integer', Type.Integer({ minimum: 0, maximum: 19, default: 10 }), 'how many nice levels below the event loop the threads that hash run (Linux), 0 to 19; 0 leaves them alone'),
  allowMd5PasswordHashes: setting('ALLOW_MD5_PASSWORD_HASHES', 'boolean', Type.Boolean({ default: false }), 'true or false'),
  legacySimplejwtSigningKey: setting('LEGACY_SIMPLEJWT_SIGNING_KEY', 'string', Type.Optional(Type.String({ minLength: 1 })), 'the SIGNING_KEY (by default the SECRET_KEY) of the Django project being replaced'),
  legacySimplejwtUntil: setting('LEGACY_SIMPLEJWT_UNTIL', 'string', Type.Optional(Type.String({ pattern: LEGACY_UNTIL_PATTERN })), 'a date, or a date and time in UTC or with an offset (2026-12-31, 2026-12-31T12:00:00Z)'),
  userCacheTtl: setting('USER_CACHE_TTL', 'duration', Type.Integer({ minimum: 1, default: 60 }), 'a positive duration in seconds, or with an s/m/h/d suffix (60, 1m)'),
  userCacheSize: setting('USER_CACHE_SIZE', 'integer', Type.Integer({ minimum: 1, default: 100000 }), 'how many users\' states to keep in memory, at least 1'),
  logLevel: setting('LOG_LEVEL', 'string', Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }), 'fatal, error, warn, info, debug, trace or silent'),
  corsOrigins: setting('CORS_ORIGINS', 'string', Type.Optional(Type.String({ minLength: 1 })), 'a comma-separated list of origins (https://app.example.com) allowed to call the API from a browser; none by default'),
  tesseraEnv: setting('TESSERA_ENV', 'string', Type.Union([Type.Literal('development'), Type.Literal('production')], { default: 'development' }), 'development or production (production refuses unsafe settings at start-up)'),
  trustProxy: setting('TRUST_PROXY', 'string', Type.Optional(Type.String({ pattern: TRUST_PROXY_PATTERN })), 'false (clients connect directly), true (trust every proxy), a number of proxy hops, or a comma-separated list of proxy addresses or CIDR ranges'),
  swaggerUi: setting('SWAGGER_UI', 'boolean', Type.Optional(Type.Boolean()), 'true or false: Swagger UI at /docs (on unless false; TESSERA_ENV=production asks for it explicitly)'),
  throttleAddressLimit: setting('THROTTLE_ADDRESS_LIMIT', 'integer', Type.Integer({ minimum: 0, default: 30 }), 'requests a client address may make to each credential route per THROTTLE_ADDRESS_WINDOW; 0 turns it off'),
  throttleAddressWindow: setting('THROTTLE_ADDRESS_WINDOW', 'duration', Type.Integer({ minimum: 1, default: 60 }), 'a positive duration in seconds, or with an s/m/h/d suffix (60, 1m)'),
  throttleUsernameLimit: setting('THROTTLE_USERNAME_LIMIT', 'integer', Type.Integer({ minimum: 0, default: 10 }), 'attempts on one username (login, registration) per THROTTLE_USERNAME_WINDOW; 0 turns it off'),
  throttleUsernameWindow: setting('THROTTLE_USERNAME_WINDOW', 'duration', Type.Integer({ minimum: 1, default: 300 }), 'a positive duration in seconds, or with an s/m/h/d suffix (300, 5m)'),
  redisUrl: setting('REDIS_URL', 'string', Type.Optional(Type.String({ pattern: '^rediss?://' })), 'a redis:// or rediss:// URL: throttling counters are then shared by every instance'),
  redisKeyPrefix: setting('REDIS_KEY_PREFIX', 'string', Type.String({ minLength: 1, maxLength: 100, default: 'tessera:' }), 'the prefix of Tessera\'s Redis keys'),
  databaseTimeout: setting('DATABASE_TIMEOUT', 'duration', Type.Integer({ minimum: 1, maximum: 300, default: 5 }), 'how long a connection attempt or a statement may take before the request gets a 503: 1 to 300 seconds'),
  databaseStartupTimeout: setting('DATABASE_STARTUP_TIMEOUT', 'duration', Type.Integer({ minimum: 0, default: 120 }), 'how long start-up retries an unreachable database before giving up (0: forever)'),
  maxEventLoopDelay: setting('MAX_EVENT_LOOP_DELAY', 'integer', Type.Integer({ minimum: 0, default: 1000 }), 'milliseconds of event-loop delay beyond which requests are shed with a 503; 0 turns it off'),
  securityEventRetention: setting('SECURITY_EVENT_RETENTION', 'duration', Type.Integer({ minimum: 1, default: 7776000 }), 'a positive duration in seconds, or with an s/m/h/d suffix (7776000, 90d)'),
  refreshTokenCookie: setting('REFRESH_TOKEN_COOKIE', 'boolean', Type.Boolean({ default: false }), 'true or false: obtain and refresh also set the refresh token as an HttpOnly cookie'),
  refreshTokenCookieName: setting('REFRESH_TOKEN_COOKIE_NAME', 'string', Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'tessera_refresh' }), 'a cookie name of 1 to 64 letters, digits, _ or -'),
  refreshTokenCookieDomain: setting('REFRESH_TOKEN_COOKIE_DOMAIN', 'string', Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]{1,253}$' })), 'the Domain attribute of the cookie (example.com); unset: the API\'s host only')
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
  if (config.refreshTokenCookie && (config.corsOrigins ?? '').trim() === '') {
    problems.push('REFRESH_TOKEN_COOKIE needs CORS_ORIGINS: cookie requests are accepted only from an allowed Origin (a same-origin app lists its own)')
  }
  problems.push(...corsOriginProblems(config), ...productionProblems(config))
  if (problems.length > 0) throw new ConfigError(problems.join('\n'))
}

function corsOriginProblems (config: Config): string[] {
  return allowedOrigins(config).filter(origin => !isOrigin(origin))
    .map(origin => `CORS_ORIGINS has ${JSON.stringify(origin)}, which is not an origin: expected a scheme and a host, like https://app.example.com`)
}

function isOrigin (text: string): boolean {
  try {
    const url = new URL(text)
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === text
  } catch {
    return false
  }
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/i
/** The length of 32 random bytes in base64: what `openssl rand -base64 32` prints. */
export const PRODUCTION_KEY_LENGTH = 43

/** TESSERA_ENV=production: settings that are fine on a laptop and unsafe on a server, each with its fix. */
function productionProblems (config: Config): string[] {
  if (config.tesseraEnv !== 'production') return []
  const problems: string[] = []
  if (config.jwtSigningKey === undefined && config.jwtKeys === undefined) {
    problems.push('TESSERA_ENV=production needs an explicit signing key: set JWT_SIGNING_KEY (openssl rand -base64 32) or JWT_KEYS (npm run keys:generate)')
  }
  if (config.jwtSigningKey !== undefined && config.jwtSigningKey.length < PRODUCTION_KEY_LENGTH) {
    problems.push(`TESSERA_ENV=production needs a JWT_SIGNING_KEY of at least ${PRODUCTION_KEY_LENGTH} characters (this one has ${config.jwtSigningKey.length}): make one with openssl rand -base64 32`)
  }
  if (config.swaggerUi === undefined) {
    problems.push('TESSERA_ENV=production would serve Swagger UI at /docs: set SWAGGER_UI=false to close it, or SWAGGER_UI=true to keep it open on purpose')
  }
  if (config.trustProxy === undefined && !LOOPBACK.test(config.host)) {
    problems.push(`TESSERA_ENV=production listens beyond loopback (HOST=${config.host}) with TRUST_PROXY undecided: set TRUST_PROXY=false when clients connect directly, or to the proxies' addresses (or true, or a hop count) behind a reverse proxy`)
  }
  return problems
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
