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
  let outputBound = 0;
  // A stream cut short reports no usage; what it generated so far is bounded by the text it carried.
  const countOutput = (json: unknown) => {
    outputBound += 1 + generatedBytes(json);
  };

  const onData = (data: string) => {
    if (format === 'openai') {
      if (data === '[DONE]') {
        finished = true;
        return;
      }
      const json = parse(data) as { usage?: unknown; error?: unknown; choices?: unknown } | undefined;
      if (json === undefined) outputBound += Buffer.byteLength(data);
      else countOutput(json.choices);
      if (json?.error) upstreamError = true;
      if (json?.usage) usage = openAIUsage(json.usage) ?? usage;
      return;
    }
    if (event === 'content_block_delta' || event === 'content_block_start') {
      const json = parse(data) as { delta?: unknown; content_block?: unknown } | undefined;
      if (json === undefined) outputBound += Buffer.byteLength(data);
      else countOutput(json.delta ?? json.content_block);
    } else if (event === 'message_start') {
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
    /**
     * An upper bound on the output tokens streamed so far: the UTF-8 bytes of every generated string
     * (text, reasoning, tool names and arguments), plus one token per event for what framing it hides.
     */
    get outputTokensBound() {
      return outputBound;
    },
  };
}

/** UTF-8 bytes of every string inside a delta (keys excluded): generated text, reasoning, tool calls. */
function generatedBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + generatedBytes(item), 0);
  if (value && typeof value === 'object') return Object.values(value).reduce((sum: number, item) => sum + generatedBytes(item), 0);
  return 0;
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
