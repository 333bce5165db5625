import t from 'tap'
import { trustProxyOption } from '../src/app.js'
import { ConfigError, loadConfig, PRODUCTION_KEY_LENGTH } from '../src/config.js'
import { allowedOrigins } from '../src/origins.js'
import { runNode } from './helpers/spawn.js'

// TESSERA_ENV=production refuses, at start-up and before anything opens, what
// is fine on a laptop and unsafe on a server; each refusal names its fix.

const KEY = 'k'.repeat(PRODUCTION_KEY_LENGTH)
const SAFE = { TESSERA_ENV: 'production', JWT_SIGNING_KEY: KEY, SWAGGER_UI: 'false', HOST: '0.0.0.0', TRUST_PROXY: 'false' }

const refusal = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.message
    throw error
  }
  return ''
}

t.test('a safe production configuration starts', async t => {
  const config = loadConfig(SAFE)
  t.equal(config.tesseraEnv, 'production')
  t.equal(loadConfig({}).tesseraEnv, 'development', 'development by default')
  t.equal(refusal({ ...SAFE, HOST: '127.0.0.1', TRUST_PROXY: '' }), '', 'loopback needs no TRUST_PROXY decision')
  t.equal(refusal({ ...SAFE, JWT_SIGNING_KEY: '', JWT_KEYS: '/etc/tessera/keys.json' }), '', 'a key-set file is explicit too')
  t.equal(refusal({ ...SAFE, SWAGGER_UI: 'true' }), '', 'Swagger UI open on purpose')
})

t.test('each unsafe setting is refused with its fix', async t => {
  t.match(refusal({ ...SAFE, JWT_SIGNING_KEY: '' }), /needs an explicit signing key: set JWT_SIGNING_KEY \(openssl rand -base64 32\) or JWT_KEYS/)
  t.match(refusal({ ...SAFE, JWT_SIGNING_KEY: 'k'.repeat(32) }), new RegExp(`at least ${PRODUCTION_KEY_LENGTH} characters \\(this one has 32\\)`))
  t.match(refusal({ ...SAFE, SWAGGER_UI: '' }), /would serve Swagger UI at \/docs: set SWAGGER_UI=false to close it, or SWAGGER_UI=true/)
  t.match(refusal({ ...SAFE, TRUST_PROXY: '' }), /listens beyond loopback \(HOST=0\.0\.0\.0\) with TRUST_PROXY undecided: set TRUST_PROXY=false/)
  const all = refusal({ TESSERA_ENV: 'production', HOST: '::' })
  t.equal(all.split('\n').length, 3, 'every problem at once (no key, Swagger UI, TRUST_PROXY)')
  t.equal(refusal({ HOST: '0.0.0.0' }), '', 'development allows all of it')
})

t.test('npm start refuses before opening anything', async t => {
  const { code, stdout, stderr } = await runNode('src/server.ts', [], { TESSERA_ENV: 'production', JWT_SIGNING_KEY: '', DATA_DIR: '/nonexistent/never-created', PORT: '0' })
  t.equal(code, 1)
  t.match(stderr, /Tessera cannot start: bad configuration\nTESSERA_ENV=production needs an explicit signing key/)
  t.equal(stdout, '', 'nothing listened or logged')
})

t.test('TRUST_PROXY and CORS_ORIGINS are read strictly', async t => {
  t.equal(trustProxyOption(undefined), false)
  t.equal(trustProxyOption('false'), false)
  t.equal(trustProxyOption('true'), true)
  t.equal(trustProxyOption('10.0.0.1, 10.0.0.0/8'), '10.0.0.1,10.0.0.0/8')
  const twoHops = trustProxyOption('2') as (address: string, hop: number) => boolean
  t.same([0, 1, 2].map(hop => twoHops('10.0.0.1', hop)), [true, true, false])
  t.match(refusal({ TRUST_PROXY: 'yes please' }), /TRUST_PROXY="yes please" is not valid/)
  t.same(allowedOrigins({ corsOrigins: ' https://a.example/ ,,http://localhost:3000' }), ['https://a.example', 'http://localhost:3000'])
  t.same(allowedOrigins({ corsOrigins: undefined }), [])
  t.match(refusal({ CORS_ORIGINS: 'https://a.example/path' }), /CORS_ORIGINS has "https:\/\/a\.example\/path", which is not an origin/)
  t.match(refusal({ CORS_ORIGINS: 'a.example' }), /"a\.example", which is not an origin/)
  t.match(refusal({ CORS_ORIGINS: 'ftp://a.example' }), /not an origin/)
  t.match(refusal({ REDIS_URL: 'localhost:6379' }), /REDIS_URL="localhost:6379" is not valid: expected a redis:\/\/ or rediss:\/\/ URL/)
})
