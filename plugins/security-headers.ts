import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

// helmet's security headers (the set @fastify/helmet sends) on every
// response. They do not depend on the request, so helmet runs once, at
// start-up, and each request copies the finished headers: no middleware runs
// per request. The API answers JSON only, so its content security policy
// allows nothing at all; Swagger UI's pages get their own (plugins/swagger.ts).

const API_POLICY: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } }
}

/** The headers helmet sets with these options, computed without a request. */
export function helmetHeaders (options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader: (name: string, value: string | number) => { headers[name.toLowerCase()] = String(value) },
    removeHeader: (name: string) => { delete headers[name.toLowerCase()] }
  }
  let failure: unknown
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => { failure = err })
  /* c8 ignore next: helmet reports only bad options, and these are constants */
  if (failure !== undefined) throw failure
  return headers
}

export const SECURITY_HEADERS = helmetHeaders(API_POLICY)

// Every request: callback style, no promise for work that never waits.
function addSecurityHeaders (_request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  reply.headers(SECURITY_HEADERS)
  done()
}

export default fp(async app => {
  app.addHook('onRequest', addSecurityHeaders)
}, { name: 'tessera-security-headers' })
