import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { agentsUsingSecret } from '../agents/agent-repository.js';
import { type AgentService, createAgentService } from '../agents/agent-service.js';
import { sessionCap } from '../agents/session-budget.js';
import { type AuditService, createAuditService } from '../audit/audit-service.js';
import { createTokenService, type TokenService } from '../auth/token-service.js';
import { type BudgetService, createBudgetService } from '../budgets/budget-service.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/client.js';
import { createGateway, type Gateway } from '../gateway/gateway-service.js';
import { createSessionKeyService, type SessionKeyService } from '../gateway/session-keys.js';
import type { Harness } from '../harness/harness.js';
import { createInlineHarness } from '../harness/inline-harness.js';
import { runtimeRoot } from '../harness/os-user.js';
import { createMemoryService, type MemoryService } from '../memory/memory-service.js';
import { createProviderService, type ProviderService } from '../providers/provider-service.js';
import { createScheduleRunner, type ScheduleRunner } from '../schedules/schedule-runner.js';
import { createScheduleService, type ScheduleService } from '../schedules/schedule-service.js';
import { createSecretService, type SecretService } from '../secrets/secret-service.js';
import { createEventStore, type EventStore } from '../sessions/event-store.js';
import { createHarnessBridge, type HarnessBridge } from '../sessions/harness-bridge.js';
import { createSessionService, type SessionService } from '../sessions/session-service.js';
import { createUploadService, type UploadService } from '../sessions/upload-service.js';
import { resolveSystemUser } from '../system-user.js';
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
    harness: Harness | null;
    sessionEvents: EventStore;
    uploads: UploadService;
    sessions: SessionService;
    harnessBridge: HarnessBridge;
    schedules: ScheduleService;
    scheduleRunner: ScheduleRunner;
    secrets: SecretService;
    agents: AgentService;
    memory: MemoryService;
    /** Starts the agent runtime once the server listens (the harness needs the gateway's address). */
    startAgents(listeningUrl: string): Promise<void>;
  }
}

/** The OpenCode version we run, from the pinned package: the plugin pre-install must match it. */
function opencodeVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('opencode-ai/package.json') as { version: string }).version;
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
  const providers = createProviderService({ sql, audit, vault, log: app.log, outbound: config.outbound });
  const budgets = createBudgetService({
    sql,
    audit,
    log: app.log,
    timeZone: config.budgetTimeZone,
    reservationTtlS: config.reservationTtlS,
  });
  app.decorate('providers', providers);
  app.decorate('budgets', budgets);
  const secrets = createSecretService({ sql, audit, vault, referencedBy: agentsUsingSecret });
  const agents = createAgentService({ sql, audit, secrets, providers, outbound: config.outbound });
  app.decorate('secrets', secrets);
  app.decorate('agents', agents);
  app.decorate('memory', createMemoryService({ sql, audit, agents, limits: config.memoryLimits }));
  app.decorate('sessionKeys', createSessionKeyService({ sql, audit }));
  const gateway = createGateway({
    sql,
    audit,
    budgets,
    providers,
    log: app.log,
    sessionRpm: config.gatewaySessionRpm,
    upstreamTimeoutS: config.upstreamTimeoutS,
    outbound: config.outbound,
    sessionCap: (sessionId) => sessionCap(sql, sessionId),
  });
  app.decorate('gateway', gateway);

  const sessionKeys = app.sessionKeys;
  // As root, OpenCode and every command it runs get their own unprivileged user (never root), and
  // its folders (state, workspaces, session private folders) sit where that user can enter.
  const runAs =
    config.harness === 'inline' ? await resolveSystemUser(config.harnessUser, 'The agent runtime never runs as root') : undefined;
  const runtimeDir = await runtimeRoot(config.dataDir, runAs);
  if (runAs) app.log.info({ user: runAs.name, runtimeDir }, 'the agent runtime runs as its own unprivileged user');
  const harness =
    config.harness === 'inline'
      ? createInlineHarness({
          stateDir: path.join(runtimeDir, 'harness'),
          log: app.log,
          version: opencodeVersion(),
          maxRssBytes: config.harnessMaxRssBytes,
          runAs,
        })
      : null;
  const events = createEventStore({ sql, log: app.log });
  const uploads = createUploadService({
    sql,
    audit,
    dataDir: config.dataDir,
    limitBytes: config.uploadLimitBytes,
    maxPendingPerUser: config.maxPendingUploadsPerUser,
  });
  const sessionDeps = {
    sql,
    audit,
    log: app.log,
    config,
    runtimeDir,
    events,
    harness,
    providers,
    budgets,
    sessionKeys,
    uploads,
    agents,
    secrets,
  };
  const sessions = createSessionService(sessionDeps);
  const bridge = createHarnessBridge(sessionDeps);
  app.decorate('harness', harness);
  app.decorate('sessionEvents', events);
  app.decorate('uploads', uploads);
  app.decorate('sessions', sessions);
  app.decorate('harnessBridge', bridge);
  const schedules = createScheduleService({ sql, audit, log: app.log, config, providers, agents });
  const scheduleRunner = createScheduleRunner({ sql, log: app.log, config, audit, harness, sessions, bridge, events, schedules, agents });
  app.decorate('schedules', schedules);
  app.decorate('scheduleRunner', scheduleRunner);
  // Every control plane hears every run end (whichever one ran it), to tell the owner's open editors.
  app.addHook('onReady', () => schedules.listen());
  let agentsStarted = false;
  app.decorate('startAgents', async (listeningUrl: string) => {
    sessions.setGatewayUrl(listeningUrl);
    if (!harness || agentsStarted) return;
    agentsStarted = true;
    bridge.start();
    await bridge.reconcile();
    await harness.start();
    // Only a control plane that can run agents claims scheduled slots.
    await scheduleRunner.start();
  });

  const sweeper = setInterval(() => {
    budgets.sweep().catch((error: unknown) => app.log.error({ err: error }, 'reservation sweep failed'));
    uploads.sweep().catch((error: unknown) => app.log.error({ err: error }, 'upload sweep failed'));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    await scheduleRunner.stop();
    // The agent process goes first: whatever else fails while closing, it must not outlive us.
    const stopped = bridge.stop();
    try {
      await harness?.stop();
    } finally {
      await stopped;
      await events.drain();
      await gateway.close();
      await schedules.unlisten();
    }
  });
};

export default fp(services, { name: 'services' });
