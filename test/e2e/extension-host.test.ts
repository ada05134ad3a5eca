import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, createAgentHarness } from '../fixtures/agents.js';
import { type Browser, launchBrowser } from '../fixtures/browser.js';
import { type CodeServer, startCodeServer } from '../fixtures/code-server.js';
import { e2eAgent } from '../fixtures/e2e-agent.js';
import { type PreparedE2e, prepareE2e } from '../fixtures/e2e-prepare.js';
import { gitWorkspace, runSuiteOrThrow } from '../fixtures/e2e-workspace.js';
import { startTcpProxy, type TcpProxy } from '../fixtures/tcp-proxy.js';
import { lastUserText } from '../fixtures/turns.js';

describe('the extension drives a real control plane from inside VS Code', () => {
  let h: AgentHarness;
  let prepared: PreparedE2e;
  let workspace: string;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let proxy: TcpProxy | undefined;
  let user: { id: string; token: string };
  let agent: { status: number; body: any };
  let schedule: { status: number; body: any };

  beforeAll(async () => {
    [h, prepared, workspace] = await Promise.all([
      createAgentHarness(),
      prepareE2e(),
      gitWorkspace(
        'e2e-repo',
        { 'src/app.ts': 'export const answer = 1;\n', '.gitignore': 'build/\n', 'build/out.js': 'ignored();\n' },
        { 'src/new-file.ts': 'export const fresh = true;\n' },
      ),
    ]);
    h.fake.setDefault(e2eAgent);
    user = await h.createUser('member');
    const budget = await h.request(h.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/month`, { limitMicros: 5_000_000 });
    expect(budget.status).toBe(200);
    agent = await h.request(h.adminToken, 'POST', '/api/v1/agents', {
      name: 'reviewer',
      description: 'Reviews changes against the team’s conventions',
      systemPrompt: 'You review code. Be brief.',
      memory: true,
    });
    expect(agent.status).toBe(201);
    const note = await h.request(user.token, 'PUT', `/api/v1/agents/${agent.body.id}/memory/style`, { content: 'Tabs, not spaces.' });
    expect(note.status).toBe(200);
    schedule = await h.request(user.token, 'POST', '/api/v1/schedules', {
      name: 'Nightly review',
      agent: 'reviewer',
      prompt: 'Say hello from the schedule',
      cron: '0 3 * * *',
      timeZone: 'Europe/Berlin',
    });
    expect(schedule.status).toBe(201);
    // The editor reaches the control plane through a proxy the suite can cut, to prove reconnects.
    proxy = await startTcpProxy(Number(new URL(h.baseUrl).port));
    server = await startCodeServer({
      workspace,
      extensionDevelopmentPath: prepared.extensionDevelopmentPath,
      settings: { 'switchboard.serverUrl': proxy.url },
      env: {
        SWITCHBOARD_E2E_RUNNER: 'code-server',
        SWITCHBOARD_E2E_FILES: 'session,agents',
        SWITCHBOARD_E2E_TOKEN: user.token,
        SWITCHBOARD_E2E_SERVER_URL: h.baseUrl,
        SWITCHBOARD_E2E_AGENT_NAME: 'reviewer',
        SWITCHBOARD_E2E_AGENT_ID: agent.body.id,
        SWITCHBOARD_E2E_SCHEDULE_ID: schedule.body.id,
        SWITCHBOARD_E2E_CONTROL_URL: proxy.controlUrl,
      },
    });
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await proxy?.close();
    await h?.closeAll();
    if (workspace) await rm(workspace, { recursive: true, force: true });
  });

  it('signs in, uploads the folder, runs the agent on a file, applies its edits, uses team agents, memory and schedules (mocha suite in the extension host)', async () => {
    if (!server || !browser) throw new Error('setup failed');
    const { summary, report } = await runSuiteOrThrow({ browser, server, prepared, name: 'session' });
    expect(summary.passed, report).toBeGreaterThanOrEqual(9);

    // What the control plane saw: an upload of git's files (not the ignored build output), one
    // session of this user, and a prompt carrying the open file as context.
    // The uploads row itself is transient (the sweep removes used uploads every minute); the audit trail keeps the upload.
    const uploads = await h.db.sql<{ payload: { files: number } }[]>`
      select payload from audit_events where actor_id = ${user.id} and action = 'upload.create'`;
    expect(uploads.map((row) => row.payload.files)).toEqual([3]);
    const sessions = await h.db.sql<{ title: string }[]>`select title from sessions where user_id = ${user.id}`;
    expect(sessions.map((row) => row.title).sort()).toEqual(
      ['E2E: edit app', 'E2E: reviewer', expect.stringMatching(/^Nightly review/)].sort(),
    );
    const [memory] = await h.db.sql<{ content: string }[]>`
      select content from agent_memories where user_id = ${user.id} and key = 'conventions'`;
    expect(memory?.content).toBe('Prefer small pull requests. Always.');
    const prompt = h.fake.requests.map((request) => lastUserText(request.body)).find((text) => text.includes('EDIT_APP'));
    expect(prompt).toContain('src/app.ts:\n```typescript\nexport const answer = 1;\n```');
    const actions = await h.db.sql<{ action: string }[]>`
      select action from audit_events where actor_id = ${user.id} order by id`;
    expect(actions.map((row) => row.action)).toEqual(expect.arrayContaining(['upload.create', 'session.create', 'session.prompt']));
  }, 300_000);
});
