import './zod-jitless.js';
import { HostToWebview } from '@switchboard/protocol';
import { z } from 'zod';
import { createChatView } from './chat-view.js';
import { connectToHost } from './vscode-api.js';

const host = connectToHost();
const view = createChatView(document.getElementById('root') ?? document.body, host);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = HostToWebview.safeParse(event.data);
  if (!parsed.success) {
    console.warn('Switchboard: ignored an invalid message from the extension', z.prettifyError(parsed.error));
    return;
  }
  view.receive(parsed.data);
});

host.send({ type: 'ready' });
