import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { type AuditService, createAuditService } from '../audit/audit-service.js';
import { createTokenService, type TokenService } from '../auth/token-service.js';
import { type BudgetService, createBudgetService } from '../budgets/budget-service.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/client.js';
import { createGateway, type Gateway } from '../gateway/gateway-service.js';
import { createSessionKeyService, type SessionKeyService } from '../gateway/session-keys.js';
import { createProviderService, type ProviderService } from '../providers/provider-service.js';
import { createTeamService, type TeamService } from '../teams/team-service.js';
import { createUserService, type UserService } from '../users/user-service.js';
import type { Vault } from '../vault/vault.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    sql: Sql;
    audit: AuditService;
    users: UserService;
    tokens: TokenService;
    teams: TeamService;
    providers: ProviderService;
    budgets: BudgetService;
    sessionKeys: SessionKeyService;
    gateway: Gateway;
  }
}

const SWEEP_INTERVAL_MS = 60_000;

/** Repositories and services, built once and shared by every route. */
const services: FastifyPluginAsync<{ config: Config; sql: Sql; vault: Vault }> = async (app, { config, sql, vault }) => {
  const audit = createAuditService({ sql, log: app.log, prompts: config.auditPrompts });
  app.decorate('config', config);
  app.decorate('sql', sql);
  app.decorate('audit', audit);
  app.decorate('users', createUserService({ sql, audit }));
  app.decorate('tokens', createTokenService({ sql, audit }));
  app.decorate('teams', createTeamService({ sql, audit }));
  const providers = createProviderService({ sql, audit, vault, log: app.log });
  const budgets = createBudgetService({
    sql,
    audit,
    log: app.log,
    timeZone: config.budgetTimeZone,
    reservationTtlS: config.reservationTtlS,
  });
  app.decorate('providers', providers);
  app.decorate('budgets', budgets);
  app.decorate('sessionKeys', createSessionKeyService({ sql, audit }));
  const gateway = createGateway({
    sql,
    audit,
    budgets,
    providers,
    log: app.log,
    sessionRpm: config.gatewaySessionRpm,
    upstreamTimeoutS: config.upstreamTimeoutS,
  });
  app.decorate('gateway', gateway);

  const sweeper = setInterval(() => {
    budgets.sweep().catch((error: unknown) => app.log.error({ err: error }, 'reservation sweep failed'));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    await gateway.close();
  });
};

export default fp(services, { name: 'services' });
