import { createInterface } from 'node:readline/promises'
import { Writable } from 'node:stream'
import type { CommandIo } from './io.js'

/** Line prompts on a terminal; a password prompt does not echo what is typed. */
export function createPrompter (io: CommandIo) {
  let muted = false
  const output = new Writable({
    write (chunk, _encoding, done) {
      if (!muted) io.stdout.write(chunk)
      done()
    }
  })
  const rl = createInterface({ input: io.stdin, output, terminal: io.stdin.isTTY === true })
  return {
    ask: async (question: string) => await rl.question(question),
    async askSecret (question: string) {
      io.stdout.write(question)
      muted = true
      try {
        return await rl.question('')
      } finally {
        muted = false
        io.stdout.write('\n')
      }
    },
    close: () => rl.close()
  }
}
