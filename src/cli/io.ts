import type { Readable, Writable } from 'node:stream'

/** What a command reads and writes: the process's streams, or a test's. */
export interface CommandIo {
  stdin: Readable & { isTTY?: boolean, setRawMode?: (mode: boolean) => unknown }
  stdout: Writable
  stderr: Writable
}

export class CommandFailed extends Error {
  override name = 'CommandFailed'
}

/** Reads all of stdin (for --password-stdin). */
export async function readAll (stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

/** Parses `--name value`, `--name=value` and bare `--flag` options. */
export function parseOptions (argv: string[]): Record<string, string | true> {
  const options: Record<string, string | true> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) throw new CommandFailed(`unexpected argument: ${arg}`)
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
    if (inline !== undefined) options[name] = inline
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) options[name] = argv[++i]!
    else options[name] = true
  }
  return options
}
