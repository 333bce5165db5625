import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { CommandFailed, type CommandIo } from './io.js'

/**
 * Line prompts, on a terminal or a pipe; a password prompt does not echo what
 * is typed. Lines are read through one iterator, so that piped lines that
 * arrive before their question is asked are not lost.
 */
export function createPrompter (io: CommandIo) {
  let muted = false
  const output = new Writable({
    write (chunk, _encoding, done) {
      if (!muted) io.stdout.write(chunk)
      done()
    }
  })
  const rl = createInterface({ input: io.stdin, output, terminal: io.stdin.isTTY === true })
  const lines = rl[Symbol.asyncIterator]()
  const nextLine = async (): Promise<string> => {
    const { value, done } = await lines.next()
    if (done === true) throw new CommandFailed('input ended before the superuser was complete')
    return value
  }
  return {
    async ask (question: string) {
      io.stdout.write(question)
      return await nextLine()
    },
    async askSecret (question: string) {
      io.stdout.write(question)
      muted = true
      try {
        return await nextLine()
      } finally {
        muted = false
        io.stdout.write('\n')
      }
    },
    close: () => rl.close()
  }
}
