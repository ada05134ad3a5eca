import { StringDecoder } from 'node:string_decoder';
import type { TokenUsage } from './pricing.js';
import { anthropicUsage, openAIUsage, type WireFormat } from './wire.js';

/** A line longer than this is not an event we need: skip it rather than hold it. */
const MAX_LINE = 1024 * 1024;

/**
 * Reads a server-sent event stream as it passes through, without holding it: remembers the usage
 * the provider reports and whether the stream reached its proper end. Only lines that can carry
 * usage are parsed as JSON.
 */
export function createStreamMeter(format: WireFormat) {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let skipping = false;
  let event = '';
  let usage: TokenUsage | undefined;
  let finished = false;
  let upstreamError = false;
  let dataBytes = 0;

  const onData = (data: string) => {
    dataBytes += data.length;
    if (format === 'openai') {
      if (data === '[DONE]') {
        finished = true;
        return;
      }
      if (!data.includes('"usage"') && !data.includes('"error"')) return;
      const json = parse(data) as { usage?: unknown; error?: unknown } | undefined;
      if (json?.error) upstreamError = true;
      if (json?.usage) usage = openAIUsage(json.usage) ?? usage;
      return;
    }
    if (event === 'message_start') {
      const json = parse(data) as { message?: { usage?: unknown } } | undefined;
      if (json?.message?.usage) usage = anthropicUsage(json.message.usage, usage);
    } else if (event === 'message_delta') {
      const json = parse(data) as { usage?: unknown } | undefined;
      if (json?.usage) usage = anthropicUsage(json.usage, usage);
    } else if (event === 'message_stop') {
      finished = true;
    } else if (event === 'error') {
      upstreamError = true;
    }
  };

  const onLine = (line: string) => {
    if (line.startsWith('data:')) onData(line.slice(line.charAt(5) === ' ' ? 6 : 5));
    else if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line === '') event = '';
  };

  return {
    feed(chunk: Buffer) {
      let text = decoder.write(chunk);
      for (;;) {
        const newline = text.indexOf('\n');
        if (newline === -1) break;
        const line = (skipping ? '' : partial) + text.slice(0, newline);
        if (!skipping) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
        partial = '';
        skipping = false;
        text = text.slice(newline + 1);
      }
      if (skipping) return;
      partial += text;
      if (partial.length > MAX_LINE) {
        partial = '';
        skipping = true;
      }
    },
    get usage() {
      return usage;
    },
    /** The provider's own end marker arrived (`[DONE]` or `message_stop`). */
    get finished() {
      return finished;
    },
    get upstreamError() {
      return upstreamError;
    },
    /** Characters of event data seen: more than the tokens they carry, so a bound on output so far. */
    get dataBytes() {
      return dataBytes;
    },
  };
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
