import { userInfo } from 'node:os'
import type { Config } from '../config.js'
import { ApiError } from '../errors.js'
import { formats } from '../schemas/formats.js'
import { RegisterBody } from '../schemas/users.js'
import { compileBodyValidator, ValidationFailed } from '../schemas/validate.js'
import { registerUser, type Registration } from '../users/accounts.js'
import { accountsOf, withDatabase } from './context.js'
import { CommandFailed, parseOptions, readAll, type CommandIo } from './io.js'
import { createPrompter } from './prompt.js'

// Django's `manage.py createsuperuser`: interactive on a terminal, or
// `--username U --email E --password-stdin` for scripts.

const USAGE = 'usage: createsuperuser, or createsuperuser --username NAME [--email ADDRESS] --password-stdin'
const validateFields = compileBodyValidator(RegisterBody, formats)

/** Messages of a rejected registration, one line each, as Django prints them. */
function messagesOf (error: unknown): string[] {
  /* c8 ignore next: only an unexpected failure (of the database) lands here; main() reports it */
  if (!(error instanceof ApiError)) throw error
  return Object.values(error.body).flat().map(String)
}

/** The field's value when it passes the API's checks, or its messages. */
function checkField (field: 'username' | 'email' | 'password', value: string): { value: string } | { errors: string[] } {
  const sample: Record<string, string> = { username: 'x', password: 'x', [field]: value }
  try {
    // The register body has string fields only.
    return { value: validateFields(sample)[field] as string }
  } catch (error) {
    return { errors: (error as ValidationFailed).fields[field]! }
  }
}

export async function createSuperuser (argv: string[], io: CommandIo, config: Config): Promise<void> {
  const options = parseOptions(argv)
  for (const name of Object.keys(options)) {
    if (!['username', 'email', 'password-stdin'].includes(name)) throw new CommandFailed(`unknown option --${name}\n${USAGE}`)
  }
  await withDatabase(config, async database => {
    const accounts = accountsOf(config, database)
    const create = async (input: Registration, skipPasswordValidation = false) => {
      await registerUser(accounts, input, {}, { isStaff: true, isSuperuser: true, skipPasswordValidation })
      io.stdout.write('Superuser created successfully.\n')
    }

    if (options['password-stdin'] === true) {
      if (typeof options.username !== 'string') throw new CommandFailed(`--password-stdin needs --username\n${USAGE}`)
      const password = (await readAll(io.stdin)).replace(/\r?\n$/, '')
      const input = { username: options.username, email: typeof options.email === 'string' ? options.email : '', password }
      try {
        await create(validateFields(input))
      } catch (error) {
        throw new CommandFailed(messagesOf(error).map(m => `Error: ${m}`).join('\n'))
      }
      return
    }

    if (Object.keys(options).length > 0) {
      throw new CommandFailed(`--username and --email go with --password-stdin; without options it asks\n${USAGE}`)
    }
    const prompt = createPrompter(io)
    try {
      const defaultName = userInfo().username
      const ask = async (field: 'username' | 'email', question: string, fallback: string): Promise<string> => {
        for (;;) {
          const answer = (await prompt.ask(question)).trim() || fallback
          const checked = checkField(field, answer)
          if ('value' in checked) return checked.value
          io.stderr.write(checked.errors.map(m => `Error: ${m}`).join('\n') + '\n')
        }
      }
      const username = await ask('username', `Username (leave blank to use '${defaultName}'): `, defaultName)
      const email = await ask('email', 'Email address: ', '')
      for (;;) {
        const password = await prompt.askSecret('Password: ')
        if (await prompt.askSecret('Password (again): ') !== password) {
          io.stderr.write("Error: Your passwords didn't match.\n")
          continue
        }
        if (password.trim() === '') {
          io.stderr.write("Error: Blank passwords aren't allowed.\n")
          continue
        }
        try {
          await create({ username, email, password })
          return
        } catch (error) {
          io.stderr.write(messagesOf(error).join('\n') + '\n')
          // Only the password validators can be overruled (a taken username cannot).
          if ((error as ApiError).body.password === undefined) throw new CommandFailed('the superuser was not created')
          const bypass = await prompt.ask('Bypass password validation and create user anyway? [y/N]: ')
          if (bypass.trim().toLowerCase().startsWith('y')) {
            await create({ username, email, password }, true)
            return
          }
        }
      }
    } finally {
      prompt.close()
    }
  })
}
