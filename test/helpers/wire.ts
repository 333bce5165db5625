import { eq } from 'drizzle-orm'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { users } from '../../src/db/schema.js'
import type { Response } from './app.js'

// Assertions on the bytes Tessera answers with, as COMPAT.md states them, and
// changes to users made behind the API's back (as an admin would in SQL).

export const WWW_AUTHENTICATE = 'Bearer realm="api"'

/** A compact JWS: three base64url segments. */
export const JWT = '[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+'

/** The assertions these helpers use; tap's `t` has them. */
export interface Asserts {
  equal (found: unknown, wanted: unknown, message: string): boolean
  match (found: unknown, pattern: RegExp, message: string): boolean
}

function assertHeaders (t: Asserts, response: Response, status: number, label: string): void {
  t.equal(response.statusCode, status, `${label}status ${status}`)
  t.equal(response.headers['content-type'], 'application/json', `${label}content-type is exactly application/json`)
  t.equal(response.headers['www-authenticate'], status === 401 ? WWW_AUTHENTICATE : undefined,
    `${label}${status === 401 ? 'carries' : 'no'} WWW-Authenticate`)
}

/** Status, exact body bytes, Content-Type, and WWW-Authenticate on a 401 (and only there). */
export function assertReply (t: Asserts, response: Response, status: number, body: string, label = ''): void {
  assertHeaders(t, response, status, label === '' ? '' : `${label}: `)
  t.equal(response.body, body, `${label === '' ? '' : `${label}: `}body is ${body}`)
}

/** As assertReply, for a body whose bytes vary (tokens, ids): it must match the whole pattern. */
export function assertReplyMatches (t: Asserts, response: Response, status: number, body: RegExp, label = ''): void {
  assertHeaders(t, response, status, label === '' ? '' : `${label}: `)
  t.match(response.body, body, `${label === '' ? '' : `${label}: `}body matches ${body.source}`)
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

/** A form-encoded POST, as `curl -d` sends it. */
export const postForm = (app: FastifyInstance, url: string, fields: Record<string, string>, headers: InjectOptions['headers'] = {}) =>
  app.inject({ method: 'POST', url, payload: new URLSearchParams(fields).toString(), headers: { ...FORM, ...headers } })

/** A POST of exact body text with the given Content-Type. */
export const postRaw = (app: FastifyInstance, url: string, body: string, contentType = 'application/json', headers: InjectOptions['headers'] = {}) =>
  app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': contentType, ...headers } })

/** A GET with an exact Authorization header, or none. */
export const getWithAuthorization = (app: FastifyInstance, url: string, authorization?: string) =>
  app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } })

// The app keeps users' states in memory, and forgets one only when the app
// itself changes that user. These SQL changes bypass it, so tests make them
// on users that no protected route has seen yet.

export async function deactivateInDatabase (app: FastifyInstance, id: number): Promise<void> {
  await app.database.db.update(users).set({ isActive: false }).where(eq(users.id, id))
}

export async function deleteInDatabase (app: FastifyInstance, id: number): Promise<void> {
  await app.database.db.delete(users).where(eq(users.id, id))
}
