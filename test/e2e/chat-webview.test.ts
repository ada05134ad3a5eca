import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Budget } from '@switchboard/protocol';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statusView } from '../../extension/src/budget-format.js';
import { type AgentHarness, createAgentHarness } from '../fixtures/agents.js';
import {
  type Browser,
  launchBrowser,
  notificationTexts,
  openWorkbench,
  quickInput,
  runCommand,
  type ScreenshotOptions,
  screenshot,
  statusBarItem,
  webviewFrame,
} from '../fixtures/browser.js';
import { type CodeServer, keepLog, startCodeServer } from '../fixtures/code-server.js';
import { e2eAgent } from '../fixtures/e2e-agent.js';
import { type PreparedE2e, prepareE2e, REPO_DIR } from '../fixtures/e2e-prepare.js';
import { gitWorkspace } from '../fixtures/e2e-workspace.js';

/**
 * The chat webview driven through the real UI: palette commands, quick inputs, the status bar and
 * the webview's own buttons, in code-server against a real control plane and OpenCode with the
 * scripted model (test/fixtures/e2e-agent.ts). The tests run in order and build on each other:
 * sign in, start a session, then one turn per flow in that session.
 */

const EXTENSION_ID = 'switchboard.switchboard-vscode';
const SESSION_TITLE = 'Plan the answer';
const SLOW_PHRASE = 'Thinking about it at length.';
/** What e2eAgent answers to SLOW, in full (test/fixtures/e2e-agent.ts). */
const SLOW_ANSWER = `${SLOW_PHRASE} `.repeat(40);
/** Where the README's screenshots live; written only with SWITCHBOARD_UPDATE_SCREENSHOTS=1. */
const DOCS_SCREENSHOTS = path.join(REPO_DIR, 'docs', 'screenshots');
const TURN_TIMEOUT_MS = 60_000;

/** The extension's "Switchboard" output channel, as the extension host's log file holds it. */
async function switchboardLog(server: CodeServer, lines = 60): Promise<string> {
  const files = (await readdir(server.userDataDir, { recursive: true }).catch(() => [] as string[]))
    .filter((name) => path.basename(name).includes('Switchboard') && name.endsWith('.log'))
    .map((name) => path.join(server.userDataDir, name));
  const texts = await Promise.all(
    files.map(async (file) => `${file}:\n${(await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n')}`),
  );
  return texts.join('\n') || '(no Switchboard output channel log found)';
}

/** Drags the sash between the side bar and the editor so the side bar is `width` px wide. */
async function widenSidebar(page: Page, width: number): Promise<void> {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box) throw new Error('the side bar is not visible');
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 8 });
  await page.mouse.up();
  await expect.poll(async () => Math.round((await page.locator('.part.sidebar').boundingBox())?.width ?? 0)).toBeGreaterThan(width - 20);
}

describe('the chat webview, driven through the real UI', () => {
  let h: AgentHarness;
  let prepared: PreparedE2e;
  let workspace: string;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let user: { id: string; token: string; email: string };
  let sessionId = '';

  const page = (): Page => {
    if (!browser) throw new Error('setup failed');
    return browser.page;
  };
  const chat = (): Promise<FrameLocator> => webviewFrame(page(), { extensionId: EXTENSION_ID, timeoutMs: 30_000 });
  /** The turn whose prompt was `prompt`. */
  const turnOf = (frame: FrameLocator, prompt: string): Locator =>
    frame.getByTestId('turn').filter({ has: frame.getByTestId('user-prompt').filter({ hasText: prompt }) });
  /** The user's budgets as the server has them (read with the user's own token). */
  const budgets = async (): Promise<Budget[]> => {
    const response = await h.request(user.token, 'GET', `/api/v1/users/${user.id}/budgets`);
    expect(response.status).toBe(200);
    return response.body.items;
  };
  const monthSpent = async () => (await budgets()).find((budget) => budget.period === 'month')?.spentMicros ?? 0;
  /**
   * Waits until the status bar shows what the extension's rule (budget-format.ts) makes of the
   * server's budgets right now, e.g. "$0.02 / $5.00 this month"; returns that text.
   */
  const statusBarFollowsServer = async (): Promise<string> => {
    let expected = '';
    await expect
      .poll(
        async () => {
          expected = statusView('connected', await budgets()).text.replace(/^\$\([\w~-]+\)\s*/, '');
          return statusBarItem(page(), expected).count();
        },
        { timeout: 30_000 },
      )
      .toBe(1);
    return expected;
  };
  const shot = async (name: string, options: ScreenshotOptions = {}): Promise<string> => {
    const file = await screenshot(page(), name, options);
    if (process.env.SWITCHBOARD_UPDATE_SCREENSHOTS === '1') {
      await mkdir(DOCS_SCREENSHOTS, { recursive: true });
      await copyFile(file, path.join(DOCS_SCREENSHOTS, path.basename(file)));
    }
    return file;
  };
  /** Types a prompt into the composer and sends it with Enter. */
  const send = async (frame: FrameLocator, text: string) => {
    const input = frame.getByTestId('composer-input');
    await expect.poll(() => input.isEnabled(), { timeout: 30_000 }).toBe(true);
    await input.fill(text);
    await input.press('Enter');
    await expect.poll(() => turnOf(frame, text).count(), { timeout: 30_000 }).toBe(1);
  };
  const status = async (frame: FrameLocator) => frame.getByTestId('status').getAttribute('data-status');

  beforeAll(async () => {
    [h, prepared, workspace] = await Promise.all([
      createAgentHarness(),
      prepareE2e(),
      gitWorkspace('e2e-chat-repo', { 'src/app.ts': 'export const answer = 1;\n' }),
    ]);
    h.fake.setDefault(e2eAgent);
    user = await h.createUser('member');
    const month = await h.request(h.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/month`, { limitMicros: 5_000_000 });
    expect(month.status).toBe(200);
    const serverUrl = { 'switchboard.serverUrl': h.baseUrl };
    server = await startCodeServer({ workspace, extensionDevelopmentPath: prepared.extensionDevelopmentPath, settings: serverUrl });
    // code-server is a remote window: VS Code takes machine-overridable settings (switchboard.serverUrl
    // is one) from the remote's Machine settings; from User settings alone the extension sometimes
    // started with the default URL (3 of 8 starts under load). Machine settings are read when the
    // workbench connects, so they are written before it opens.
    await mkdir(path.join(server.userDataDir, 'Machine'), { recursive: true });
    await writeFile(path.join(server.userDataDir, 'Machine', 'settings.json'), JSON.stringify(serverUrl, null, 2));
    browser = await launchBrowser({ viewport: { width: 1400, height: 900 } });
    await openWorkbench(browser.page, server.url, workspace, { extensionDevelopmentPath: prepared.extensionDevelopmentPath });
  }, 300_000);

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail' || !server || !browser) return;
    const name = `chat-failed-${context.task.name.replace(/\W+/g, '-').slice(0, 40)}`;
    const file = await screenshot(browser.page, name).catch(() => 'none');
    const log = await keepLog(server.logFile, `${name}-code-server.log`);
    const notifications = await notificationTexts(browser.page).catch((error: Error) => [`(could not read: ${error.message})`]);
    // Leave the workbench as the next test expects it.
    await browser.page.keyboard.press('Escape');
    await browser.page
      .locator('.notifications-center')
      .waitFor({ state: 'hidden', timeout: 5_000 })
      .catch(() => undefined);
    process.stderr.write(
      `[chat-webview] "${context.task.name}" failed; screenshot ${file}, code-server log ${log}\n--- notifications:\n${notifications.join('\n')}\n--- Switchboard output channel:\n${await switchboardLog(server)}\n--- code-server:\n${server.logTail()}\n`,
    );
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await h?.closeAll();
    if (workspace) await rm(workspace, { recursive: true, force: true });
  });

  it('signs in through the palette and shows the month budget in the status bar', async () => {
    const p = page();
    await statusBarItem(p, 'Switchboard: Sign In').waitFor({ state: 'visible', timeout: 60_000 });
    await runCommand(p, 'Switchboard: Sign In');
    const token = await quickInput(p, 'Sign in to Switchboard');
    // The box names the server the token goes to: the one from the settings.
    expect(await p.locator('.quick-input-title').textContent()).toBe(`Sign in to Switchboard (${h.baseUrl})`);
    expect(await token.getAttribute('type')).toBe('password');
    await token.fill(user.token);
    await token.press('Enter');
    await statusBarItem(p, '$0.00 / $5.00 this month').waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(() => statusBarItem(p, 'Switchboard: Sign In').count()).toBe(0);
  }, 120_000);

  it('starts a session from the palette, and the chat view shows it', async () => {
    const p = page();
    await runCommand(p, 'Switchboard: New Session');
    const title = await quickInput(p, 'New agent session');
    await title.fill(SESSION_TITLE);
    await title.press('Enter');
    const source = await quickInput(p, 'Start the agent from…');
    await source.fill('Empty workspace');
    const row = p.locator('.quick-input-list .monaco-list-row', { hasText: 'Empty workspace' });
    await row.click();

    const frame = await chat();
    await expect.poll(() => frame.getByTestId('title').textContent(), { timeout: 60_000 }).toBe(SESSION_TITLE);
    await expect.poll(() => status(frame), { timeout: 60_000 }).toBe('idle');
    await expect.poll(() => frame.getByTestId('composer-input').isEnabled()).toBe(true);
    const [session] = await h.db.sql<{ id: string; title: string }[]>`select id, title from sessions where user_id = ${user.id}`;
    expect(session?.title).toBe(SESSION_TITLE);
    sessionId = session?.id ?? '';
    // The screenshots' layout: the project's file in the editor, and a wide side bar given to the chat.
    await p.keyboard.press('Control+P');
    const files = p.locator('.quick-input-widget .quick-input-box input');
    await files.waitFor({ state: 'visible', timeout: 30_000 });
    await files.fill('src/app.ts');
    await p.locator('.quick-input-list .monaco-list-row', { hasText: 'app.ts' }).first().click();
    await p.locator('.editor-group-container .tab', { hasText: 'app.ts' }).waitFor({ state: 'visible', timeout: 30_000 });
    const sessionsHeader = p.locator('.pane-header', { hasText: 'Sessions' });
    if ((await sessionsHeader.getAttribute('aria-expanded')) === 'true') await sessionsHeader.click();
    await expect.poll(() => sessionsHeader.getAttribute('aria-expanded')).toBe('false');
    await widenSidebar(p, 640);
  }, 120_000);

  it('streams a markdown answer, rendered, with the turn’s usage, and the budget in the status bar follows', async () => {
    const frame = await chat();
    await send(frame, 'MARKDOWN please');
    const turn = turnOf(frame, 'MARKDOWN please');
    const text = turn.getByTestId('assistant-text');
    await expect.poll(() => text.locator('h2').textContent(), { timeout: TURN_TIMEOUT_MS }).toBe('Plan');
    await expect.poll(() => text.locator('code').last().textContent(), { timeout: TURN_TIMEOUT_MS }).toContain('export const answer = 42;');
    expect(await text.locator('strong').first().textContent()).toBe('src/app.ts');
    expect(await text.locator('ol > li').allTextContents()).toEqual(['keep the answer export', 'add a test']);
    expect(await text.locator('ol > li code').first().textContent()).toBe('answer');
    expect(await turn.getByTestId('code-block').textContent()).toContain('export const answer = 42;');
    await expect.poll(() => status(frame), { timeout: TURN_TIMEOUT_MS }).toBe('idle');
    const usage = turn.getByTestId('usage');
    await expect.poll(() => usage.textContent(), { timeout: TURN_TIMEOUT_MS }).toMatch(/^[\d.]+k? in · [\d.]+k? out · \$\d+\.\d{4}$/);
    await shot('chat-markdown');

    // The turn's cost reached the month budget (less than a cent: the status bar, in whole cents,
    // still reads $0.00; it shows cents after the next turn).
    await expect.poll(monthSpent, { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await statusBarFollowsServer()).toMatch(/^\$\d+\.\d\d \/ \$5\.00 this month$/);
  }, 120_000);

  it('asks before running bash; allowed once, the tool runs and the answer follows', async () => {
    const frame = await chat();
    await send(frame, 'RUN_BASH now');
    const turn = turnOf(frame, 'RUN_BASH now');
    const card = turn.getByTestId('permission-card');
    await card.waitFor({ state: 'visible', timeout: TURN_TIMEOUT_MS });
    expect(await card.getAttribute('data-state')).toBe('pending');
    for (const id of ['permission-once', 'permission-always', 'permission-reject']) {
      expect(await card.getByTestId(id).isEnabled(), id).toBe(true);
    }
    await shot('chat-permission');

    await card.getByTestId('permission-once').click();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 30_000 }).toBe('once');
    const tool = turn.getByTestId('tool-card').filter({ hasText: 'echo approved > approved.txt' });
    await expect.poll(() => tool.getAttribute('data-state'), { timeout: TURN_TIMEOUT_MS }).toBe('completed');
    await expect
      .poll(async () => (await turn.getByTestId('assistant-text').allTextContents()).join('\n'), { timeout: TURN_TIMEOUT_MS })
      .toContain('The command ran');
    await expect.poll(() => status(frame), { timeout: TURN_TIMEOUT_MS }).toBe('idle');
    await shot('chat-tool-card');

    const approvals = await h.db.sql<{ tool: string; status: string; decided_by: string; decided_by_user: string }[]>`
      select tool, status, decided_by, decided_by_user from approvals where session_id = ${sessionId}`;
    expect(approvals).toEqual([{ tool: 'bash', status: 'once', decided_by: 'user', decided_by_user: user.id }]);

    // Two turns cost more than a cent: the status bar has moved off $0.00, to the server's figure.
    await expect.poll(monthSpent, { timeout: 30_000 }).toBeGreaterThanOrEqual(10_000);
    expect(await statusBarFollowsServer()).not.toBe('$0.00 / $5.00 this month');
  }, 120_000);

  it('shows the agent’s question with its options; the chosen answer reaches the agent', async () => {
    const frame = await chat();
    await send(frame, 'QUESTION about the button');
    const turn = turnOf(frame, 'QUESTION about the button');
    const card = turn.getByTestId('question-card');
    await card.waitFor({ state: 'visible', timeout: TURN_TIMEOUT_MS });
    expect(await card.getAttribute('data-state')).toBe('pending');
    expect(await card.textContent()).toContain('Which colour should the button be?');
    expect(await card.getByTestId('question-submit').isEnabled()).toBe(false);
    await card.getByLabel(/Blue/).check();
    await card.getByTestId('question-submit').click();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 30_000 }).toBe('answered');
    await expect
      .poll(async () => (await turn.getByTestId('assistant-text').allTextContents()).join('\n'), { timeout: TURN_TIMEOUT_MS })
      .toContain('Blue it is');
    await expect.poll(() => status(frame), { timeout: TURN_TIMEOUT_MS }).toBe('idle');
    await shot('chat-question');
    const [approval] = await h.db.sql<{ status: string; decided_by: string }[]>`
      select status, decided_by from approvals where session_id = ${sessionId} and kind = 'question'`;
    expect(approval).toEqual({ status: 'answered', decided_by: 'user' });
  }, 120_000);

  it('stops a slow answer with Escape, long before it would have ended', async () => {
    const frame = await chat();
    const sentAt = Date.now();
    await send(frame, 'SLOW story');
    const turn = turnOf(frame, 'SLOW story');
    await expect.poll(() => turn.getByTestId('assistant-text').first().textContent(), { timeout: TURN_TIMEOUT_MS }).toContain(SLOW_PHRASE);
    expect(await status(frame)).toBe('busy');
    expect(await frame.getByTestId('abort').isVisible()).toBe(true);

    const abortedAt = Date.now();
    await frame.getByTestId('composer-input').press('Escape');
    await expect.poll(() => status(frame), { timeout: 15_000 }).toBe('idle');
    const stoppedAfter = Date.now() - abortedAt;
    // The whole answer streams for about 18 s (120 chunks, 150 ms apart).
    expect(stoppedAfter).toBeLessThan(10_000);
    const shown = (await turn.getByTestId('assistant-text').allTextContents()).join('');
    expect(shown.split(SLOW_PHRASE).length - 1).toBeLessThan(40);
    expect(Date.now() - sentAt).toBeLessThan(60_000);
    expect(await frame.getByTestId('send').isVisible()).toBe(true);

    const aborts = await h.db.sql<{ actor_id: string }[]>`
      select actor_id from audit_events where action = 'session.abort' and target_id = ${sessionId}`;
    expect(aborts).toEqual([{ actor_id: user.id }]);

    // What was shown is the start of the answer, each piece once. (The control plane's translator
    // forgets how much of a part it streamed when the session goes idle; OpenCode reports the
    // aborted part whole after that, and it arrives again as one more delta.)
    // Nothing more should arrive; whatever would, arrives within milliseconds of the idle status.
    await page().waitForTimeout(2_000);
    const words = (text: string) => text.replace(/\s+/g, ' ').trim();
    const full = words(SLOW_ANSWER);
    const stored = await h.request(user.token, 'GET', `/api/v1/sessions/${sessionId}/events?limit=1000`);
    const events = (stored.body.items as { event: { type: string; text?: string; delta?: string } }[]).map((item) => item.event);
    const streamed = events
      .slice(events.findIndex((event) => event.type === 'prompt' && event.text === 'SLOW story'))
      .flatMap((event) => (event.type === 'text.delta' ? [event.delta ?? ''] : []))
      .join('');
    expect.soft(full.startsWith(words(streamed)), `the stored transcript repeats text: ${JSON.stringify(streamed)}`).toBe(true);
    const chatText = (await turn.getByTestId('assistant-text').allTextContents()).join('');
    expect.soft(full.startsWith(words(chatText)), `the chat repeats text: ${JSON.stringify(chatText)}`).toBe(true);
  }, 120_000);

  it('shows the refusal when the day budget runs out mid-turn, and the budgets in the status bar', async () => {
    const p = page();
    const day = await h.request(h.adminToken, 'PUT', `/api/v1/users/${user.id}/budgets/day`, { limitMicros: 30_000 });
    expect(day.status).toBe(200);
    // The new budget reaches the extension live: the status bar item's tooltip lists it.
    const item = statusBarItem(p, /this (month|day)/);
    /** Hovers the item and returns its tooltip once shown (it opens after a hover delay). */
    const tooltip = async (): Promise<Locator | undefined> => {
      await p.mouse.move(0, 0);
      await item.hover();
      const hover = p.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'budget' }).last();
      try {
        await hover.waitFor({ state: 'visible', timeout: 5_000 });
        return hover;
      } catch {
        return undefined;
      }
    };
    /** The tooltip, once it holds `text`. */
    const tooltipWith = async (text: string): Promise<Locator> => {
      let open: Locator | undefined;
      await expect
        .poll(
          async () => {
            open = await tooltip();
            return (await open?.textContent()) ?? '';
          },
          { timeout: 30_000 },
        )
        .toContain(text);
      if (!open) throw new Error('the status bar tooltip did not open');
      return open;
    };
    await tooltipWith('Your day budget: $0.00 / $0.03 this day');

    const frame = await chat();
    const modelCalls = h.fake.requests.length;
    await send(frame, 'hello');
    const turn = turnOf(frame, 'hello');
    const error = turn.getByTestId('error-card');
    await error.waitFor({ state: 'visible', timeout: TURN_TIMEOUT_MS });
    expect(await error.getAttribute('data-code')).toBe('BUDGET_EXCEEDED');
    expect(await error.locator('.error-title').textContent()).toBe('Budget reached');
    expect(await error.locator('.error-message').textContent()).toMatch(
      /^Budget reached: \$\d+\.\d\d of \$0\.03 used this day \(user budget\)\. Ask an admin to raise it\.$/,
    );
    await expect.poll(() => status(frame), { timeout: TURN_TIMEOUT_MS }).toBe('idle');
    // The model was never called for this prompt: the gateway refused before it.
    expect(h.fake.requests.length).toBe(modelCalls);

    // The budget that refused the call takes over the status bar (in the error colour) until an
    // admin raises it, even though the month budget is further along in percent.
    await statusBarItem(p, '$0.00 / $0.03 this day').waitFor({ state: 'visible', timeout: 30_000 });
    const hover = await tooltipWith('This user budget refused the last model call');
    expect(await hover.textContent()).toContain('Your day budget: $0.00 / $0.03 this day');
    await shot('chat-budget-exhausted');

    // The status bar's right end with its tooltip.
    const bar = await p.locator('.statusbar').boundingBox();
    const tip = await hover.boundingBox();
    if (!bar || !tip) throw new Error('no status bar or tooltip to clip');
    const right = bar.x + bar.width;
    const left = Math.max(0, Math.min(tip.x - 16, right - 560));
    const top = Math.max(0, tip.y - 16);
    await shot('status-bar-budget', { clip: { x: left, y: top, width: right - left, height: bar.y + bar.height - top } });
  }, 120_000);
});
