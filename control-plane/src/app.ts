import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { agentRoutes } from './agents/routes.js';
import { healthRoutes } from './api/health-routes.js';
import { auditRoutes } from './audit/routes.js';
import authPlugin from './auth/auth-plugin.js';
import { tokenRoutes } from './auth/routes.js';
import { budgetRoutes } from './budgets/routes.js';
import type { Config } from './config.js';
import type { Sql } from './db/client.js';
import { gatewayRoutes } from './gateway/routes.js';
import type { Logger } from './logger.js';
import { mcpRoutes } from './mcp/routes.js';
import { memoryRoutes } from './memory/routes.js';
import errorHandler from './plugins/error-handler.js';
import services from './plugins/services.js';
import { providerRoutes } from './providers/routes.js';
import { attachRpcEndpoint } from './rpc/ws-endpoint.js';
import { scheduleRoutes } from './schedules/routes.js';
import { secretRoutes } from './secrets/routes.js';
import { sessionRoutes } from './sessions/routes.js';
import { teamRoutes } from './teams/routes.js';
import { userRoutes } from './users/routes.js';
import { createVault, loadMasterKey } from './vault/vault.js';
import { VERSION } from './version.js';

export interface AppOptions {
  config: Config;
  sql: Sql;
  logger: Logger;
}

/** Builds the whole HTTP app without listening: tests inject into it, `server.ts` listens. */
export async function buildApp({ config, sql, logger }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.bodyLimitBytes,
    // Off unless configured: only a named proxy may say who the client is (X-Forwarded-For).
    trustProxy: config.trustProxy,
    requestIdHeader: false,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Switchboard control plane',
        version: VERSION,
        description: 'Admin REST API. Authenticate with `Authorization: Bearer sb_…`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const vault = createVault(await loadMasterKey(config.masterKey, config.dataDir));
  await app.register(services, { config, sql, vault });
  await app.register(errorHandler);
  await app.register(authPlugin, { failuresPerMinute: config.authFailuresPerMinute });

  await app.register(healthRoutes);
  await app.register(gatewayRoutes);
  await app.register(mcpRoutes);
  await app.register(
    async (api) => {
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
      await api.register(async (authenticated) => {
        authenticated.addHook('onRequest', authenticated.authenticate);
        await authenticated.register(tokenRoutes);
        await authenticated.register(userRoutes);
        await authenticated.register(teamRoutes);
        await authenticated.register(auditRoutes);
        await authenticated.register(providerRoutes);
        await authenticated.register(budgetRoutes);
        await authenticated.register(sessionRoutes);
        await authenticated.register(scheduleRoutes);
        await authenticated.register(agentRoutes);
        await authenticated.register(secretRoutes);
        await authenticated.register(memoryRoutes);
      });
    },
    { prefix: '/api/v1' },
  );
  const closeRpc = await attachRpcEndpoint(app);
  app.addHook('preClose', closeRpc);
  return app;
}
