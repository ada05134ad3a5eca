const MAX_CONTEXT_CHARS = 150_000;

/** The prompt with the code it is about: a fenced block naming the file and lines. */
export function promptWithContext(
  request: string,
  context: { path: string; languageId: string; text: string; startLine?: number; endLine?: number },
): string {
  const where = context.startLine !== undefined ? `${context.path}, lines ${context.startLine}–${context.endLine}` : context.path;
  const text = context.text.length > MAX_CONTEXT_CHARS ? `${context.text.slice(0, MAX_CONTEXT_CHARS)}\n… (truncated)` : context.text;
  const fence = text.includes('```') ? '~~~~' : '```';
  const body = text.endsWith('\n') ? text : `${text}\n`;
  return `${request}\n\n${where}:\n${fence}${context.languageId}\n${body}${fence}`;
}
