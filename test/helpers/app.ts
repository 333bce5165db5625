import { randomBytes } from 'node:crypto'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import postgres from 'postgres'
import { buildApp, type AppOptions } from '../../src/app.js'
import { configWith, type Config } from '../../src/config.js'
import { MEMORY_DATA_DIR } from '../../src/db/index.js'
import { checkResponses } from './contract.js'

export const SIGNING_KEY = 'test-signing-key-that-is-long-enough-0123456789'

/**
 * TEST_DATABASE_URL (a PostgreSQL server) puts the suite on PostgreSQL: each
 * caller gets a database of its own, dropped at teardown, so that test files
 * run in parallel. Without it, each app gets an in-memory PGlite.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL

interface Teardown { teardown: (fn: () => unknown) => void }

export async function freshDatabaseUrl (t: Teardown): Promise<string | undefined> {
  if (TEST_DATABASE_URL === undefined) return undefined
  const name = `tessera_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  t.teardown(async () => {
    const cleanup = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
    await cleanup.unsafe(`drop database if exists ${name} with (force)`)
    await cleanup.end()
  })
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/** Cheap argon2 parameters: the suite hashes often. The defaults are tested on their own. */
export const FAST_ARGON2 = { argon2MemoryKib: 1024, argon2Iterations: 1 }

/**
 * Throttling off: a test file logs in from one address far more often than a
 * person would. Load shedding off: building an app (PGlite compiles its
 * WebAssembly) stalls the event loop, and the suite's other apps in the same
 * process would shed their next requests. test/throttle.test.ts and
 * test/overload.test.ts turn them on.
 */
export const HARDENING_OFF = { throttleAddressLimit: 0, throttleUsernameLimit: 0, maxEventLoopDelay: 0 }

export async function testConfig (t: Teardown, overrides: Partial<Config> = {}): Promise<Config> {
  const databaseUrl = await freshDatabaseUrl(t)
  return configWith({
    jwtSigningKey: SIGNING_KEY,
    dataDir: MEMORY_DATA_DIR,
    logLevel: 'silent',
    ...FAST_ARGON2,
    ...HARDENING_OFF,
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    ...overrides
  })
}

/** An app whose `app.inject` checks every response against the OpenAPI document (helpers/contract.ts). */
export async function buildTestApp (t: Teardown, overrides: Partial<Config> = {}, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(await testConfig(t, overrides), options)
  t.teardown(() => app.close())
  return checkResponses(app)
}

export type Response = LightMyRequestResponse

export const post = (app: FastifyInstance, url: string, payload: unknown, headers: InjectOptions['headers'] = {}) =>
  app.inject({ method: 'POST', url, payload: payload as InjectOptions['payload'], headers })

export const get = (app: FastifyInstance, url: string, access?: string) =>
  app.inject({ method: 'GET', url, headers: access === undefined ? {} : { authorization: `Bearer ${access}` } })

export const PASSWORD = 'correct-horse-battery-staple'

export async function registerUser (app: FastifyInstance, username = 'alice', password = PASSWORD, email = `${username}@example.com`): Promise<number> {
  const response = await post(app, '/register/', { username, email, password })
  if (response.statusCode !== 201) throw new Error(`register failed: ${response.body}`)
  return response.json().id
}

export async function obtainPair (app: FastifyInstance, username = 'alice', password = PASSWORD): Promise<{ access: string, refresh: string }> {
  const response = await post(app, '/api/token/', { username, password })
  if (response.statusCode !== 200) throw new Error(`obtain failed: ${response.body}`)
  return response.json()
}
