import { describe, expect, it } from 'vitest';
import { useAgentHarness } from '../fixtures/agents.js';
import { ASK_COLOUR, COLOUR_QUESTION } from '../fixtures/e2e-agent.js';
import { idleAfter, ofSession } from '../fixtures/turns.js';

const suite = useAgentHarness({ SWITCHBOARD_APPROVAL_TIMEOUT_S: '3' });

const toolResult = (body: any): string =>
  (body.messages ?? [])
    .filter((message: any) => message.role === 'tool')
    .map((message: any) => (typeof message.content === 'string' ? message.content : JSON.stringify(message.content)))
    .join('\n');

describe('questions the agent asks (OpenCode’s question tool)', () => {
  it('reaches the user with its options, and the answer reaches the model', async () => {
    const user = await suite.h.createUser('member');
    const rpc = await suite.client(user.token);
    const session = await rpc.request('session/create', { title: 'Question' });
    await rpc.request('session/subscribe', { sessionId: session.id });
    suite.h.fake.script(ASK_COLOUR, { text: 'Blue it is.' });

    await rpc.request('session/prompt', { sessionId: session.id, text: 'Style the button' });
    const asked = await rpc.waitFor((event) => event.sessionId === session.id && event.event.type === 'question.asked', 30_000);
    if (asked.event.type !== 'question.asked') throw new Error('unreachable');
    expect(asked.event.questions).toEqual([{ ...COLOUR_QUESTION, multiple: false }]);

    const stranger = await suite.client((await suite.h.createUser('member')).token);
    await expect(
      stranger.request('question/reply', { sessionId: session.id, questionId: asked.event.questionId, answers: [['Red']] }),
    ).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });

    await rpc.request('question/reply', { sessionId: session.id, questionId: asked.event.questionId, answers: [['Blue']] });
    await rpc.waitFor(idleAfter(session.id, asked.seq), 30_000);
    const answered = rpc.events.find((event) => event.sessionId === session.id && event.event.type === 'question.answered');
    expect(answered?.event).toMatchObject({ questionId: asked.event.questionId, answers: [['Blue']], by: 'user' });
    expect(toolResult(suite.h.fake.requests.at(-1)!.body)).toContain('Blue');
    const [row] = await suite.h.db.sql`select status, decided_by, decided_by_user from approvals where id = ${asked.event.questionId}`;
    expect(row).toMatchObject({ status: 'answered', decided_by: 'user', decided_by_user: user.id });
    await expect(
      rpc.request('question/reply', { sessionId: session.id, questionId: asked.event.questionId, answers: [['Red']] }),
    ).rejects.toMatchObject({ data: { code: expect.stringMatching(/CONFLICT|NOT_FOUND/) } });
  }, 90_000);

  it('never hangs: an unanswered question is declined when it times out and the turn ends', async () => {
    const user = await suite.h.createUser('member');
    const rpc = await suite.client(user.token);
    const session = await rpc.request('session/create', { title: 'Unanswered' });
    await rpc.request('session/subscribe', { sessionId: session.id });
    suite.h.fake.script(ASK_COLOUR, { text: 'No answer; I will pick one later.' });
    await rpc.request('session/prompt', { sessionId: session.id, text: 'Style the button' });
    const asked = await rpc.waitFor((event) => event.sessionId === session.id && event.event.type === 'question.asked', 30_000);
    const started = Date.now();
    await rpc.waitFor(idleAfter(session.id, asked.seq), 30_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    const answered = rpc.events.filter(ofSession(session.id)).find((event) => event.event.type === 'question.answered');
    expect(answered?.event).toMatchObject({ answers: null, by: 'timeout' });
  }, 90_000);
});
