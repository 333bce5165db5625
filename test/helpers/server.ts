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
