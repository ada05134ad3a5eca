import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { type AuditService, createAuditService } from '../audit/audit-service.js';
import { createTokenService, type TokenService } from '../auth/token-service.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/client.js';
import { createTeamService, type TeamService } from '../teams/team-service.js';
import { createUserService, type UserService } from '../users/user-service.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    sql: Sql;
    audit: AuditService;
    users: UserService;
    tokens: TokenService;
    teams: TeamService;
  }
}

/** Repositories and services, built once and shared by every route. */
const services: FastifyPluginAsync<{ config: Config; sql: Sql }> = async (app, { config, sql }) => {
  const audit = createAuditService({ sql, log: app.log, prompts: config.auditPrompts });
  app.decorate('config', config);
  app.decorate('sql', sql);
  app.decorate('audit', audit);
  app.decorate('users', createUserService({ sql, audit }));
  app.decorate('tokens', createTokenService({ sql, audit }));
  app.decorate('teams', createTeamService({ sql, audit }));
};

export default fp(services, { name: 'services' });
