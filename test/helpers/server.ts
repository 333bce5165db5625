import type { ChildProcess } from 'node:child_process'
import { startNode } from './spawn.js'

export interface Running { child: ChildProcess, url: string, logs: () => Array<Record<string, unknown>>, exited: Promise<number | null> }

/** Starts `src/server.ts` as `npm start` does, and waits for its "listening" line. */
export async function startServer (env: NodeJS.ProcessEnv): Promise<Running> {
  const child = startNode('src/server.ts', [], env)
  const lines: Array<Record<string, unknown>> = []
  let buffer = ''
  const exited = new Promise<number | null>(resolve => child.on('close', resolve))
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', chunk => {
      buffer += chunk
      let newline
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>
        buffer = buffer.slice(newline + 1)
        lines.push(line)
        const match = /^Server listening at (http:\/\/127\.0\.0\.1:\d+)$/.exec(String(line.msg))
        if (match !== null) resolve(match[1]!)
      }
    })
    exited.then(code => reject(new Error(`server exited with ${code}`)), reject)
  })
  return { child, url, logs: () => lines, exited }
}

/** An HTTP call to a running server: JSON body and bearer token when given; the status and the body's text. */
export async function call (baseUrl: string, path: string, options: { method?: string, body?: unknown, access?: string } = {}): Promise<{ status: number, body: string }> {
  const headers: Record<string, string> = {}
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  if (options.access !== undefined) headers.authorization = `Bearer ${options.access}`
  const response = await fetch(baseUrl + path, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body)
  })
  return { status: response.status, body: await response.text() }
}

/** Polls until `check` holds; answers how long it took (ms), or fails after `limitMs`. */
export async function within (limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now()
  for (;;) {
    if (await check()) return Date.now() - start
    if (Date.now() - start > limitMs) throw new Error(`not within ${limitMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
