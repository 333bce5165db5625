import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type LogArguments = Parameters<FastifyBaseLogger['info']>
/** Fastify's logger is pino's, which also answers isLevelEnabled. */
type PinoLogger = FastifyBaseLogger & { isLevelEnabled: (level: string) => boolean }

/**
 * request.log, without a pino child per request. Fastify makes one child
 * logger per request for its `reqId`; making it serialises the bindings
 * through the redaction, a cost every request pays although at `warn` (the
 * production level) almost none writes a line. This one makes the child when
 * the first line at an enabled level is written, so the lines written carry
 * `reqId` as before and the other requests pay nothing.
 */
export class LazyRequestLogger {
  #parent: FastifyBaseLogger
  #bindings: Record<string, unknown>
  #child: FastifyBaseLogger | undefined

  constructor (parent: FastifyBaseLogger, bindings: Record<string, unknown>) {
    this.#parent = parent
    this.#bindings = bindings
  }

  /** The real child, made once. */
  get #logger (): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings)
    return this.#child
  }

  /** Whether anything was written (the child exists). */
  get materialised (): boolean {
    return this.#child !== undefined
  }

  get level (): string {
    return (this.#child ?? this.#parent).level
  }

  set level (level: string) {
    this.#logger.level = level
  }

  isLevelEnabled (level: string): boolean {
    return ((this.#child ?? this.#parent) as PinoLogger).isLevelEnabled(level)
  }

  #write (level: Level, args: LogArguments): void {
    if (!this.isLevelEnabled(level)) return
    const logger = this.#logger
    logger[level].apply(logger, args)
  }

  fatal (...args: LogArguments): void { this.#write('fatal', args) }
  error (...args: LogArguments): void { this.#write('error', args) }
  warn (...args: LogArguments): void { this.#write('warn', args) }
  info (...args: LogArguments): void { this.#write('info', args) }
  debug (...args: LogArguments): void { this.#write('debug', args) }
  trace (...args: LogArguments): void { this.#write('trace', args) }
  silent (): void {}

  child (bindings: Record<string, unknown>, options?: Record<string, unknown>): FastifyBaseLogger {
    return this.#logger.child(bindings, options)
  }
}

/**
 * Fastify's childLoggerFactory: the lazy logger, unless the route asks for a
 * level or serializers of its own (none of Tessera's does), which only a real
 * child can carry.
 */
export const lazyChildLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) =>
  Object.keys(options).length > 0
    ? logger.child(bindings, options)
    : new LazyRequestLogger(logger, bindings) as unknown as FastifyBaseLogger

/** Levels at which Fastify's per-request lines ("incoming request", "request completed", at `info`) are written. */
const REQUEST_LINE_LEVELS = new Set(['info', 'debug', 'trace'])

/**
 * Fastify's log controller, without the two `info` lines of every request
 * when the level does not write them: Fastify builds their arguments (an
 * object, the response time) before the logger drops them. Every other line
 * (errors, warnings) goes through as before. The level is fixed at start-up.
 */
export class RequestLogController extends LogController {
  readonly #requestLines: boolean

  constructor (level: string) {
    super()
    this.#requestLines = REQUEST_LINE_LEVELS.has(level)
  }

  override incomingRequest (request: FastifyRequest, reply: FastifyReply): void {
    if (this.#requestLines) super.incomingRequest(request, reply)
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.#requestLines || error != null) super.requestCompleted(error, request, reply)
  }
}
