import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { refuseOtherMethods } from '../plugins/method-not-allowed.js'
import { errorResponses } from '../src/schemas/errors.js'
import { RegisterBody, RegisteredUser } from '../src/schemas/users.js'
import { ValidationFailed } from '../src/schemas/validate.js'
import { registerUser } from '../src/users/accounts.js'

export default async function registerRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post('/register/', {
    schema: {
      operationId: 'register',
      summary: 'Register a user',
      description: 'Creates a user. The username must be unique without regard to case; the password must pass ' +
        'Django\'s validators (length, similarity to the username and email, common passwords, all digits). ' +
        'Unknown fields and `id` are ignored.',
      tags: ['users'],
      consumes: ['application/json', 'application/x-www-form-urlencoded'],
      body: RegisterBody,
      response: { 201: RegisteredUser, ...errorResponses({ body: RegisterBody, hashes: true }) }
    },
    // The unique-username check needs the database, and DRF reports it with
    // the other field errors: the handler gets the schema's findings.
    attachValidation: true
  }, async (request, reply) => {
    const failed = request.validationError
    // A body that is not an object has no fields to check further (DRF stops there too).
    if (failed !== undefined && (!(failed instanceof ValidationFailed) || failed.fields.non_field_errors !== undefined)) throw failed
    const input = failed === undefined ? request.body : failed.valid
    const user = await registerUser(app.accounts, input, failed?.fields)
    return reply.code(201).send({ id: user.id, username: user.username, email: user.email })
  })
  refuseOtherMethods(app, '/register/', ['POST'])
}
