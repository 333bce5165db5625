import createClient, { type ClientOptions } from 'openapi-fetch'
import type { components, paths } from './schema.js'

// The TypeScript SDK: the types `npm run sdk` generates from openapi.json
// (openapi-typescript), with openapi-fetch's typed fetch client over them.

export type { components, operations, paths } from './schema.js'
export type TokenPair = components['schemas']['TokenPair']
export type RefreshedTokens = components['schemas']['RefreshedTokens']
export type User = components['schemas']['User']
export type AuthenticationError = components['schemas']['AuthenticationError']
export type AdminUser = components['schemas']['AdminUser']
export type SecurityEventPage = components['schemas']['SecurityEventPage']

/** A typed client of the Tessera server at `baseUrl` (e.g. http://127.0.0.1:8000). */
export function createTesseraClient (baseUrl: string, options: Omit<ClientOptions, 'baseUrl'> = {}) {
  return createClient<paths>({ ...options, baseUrl })
}
