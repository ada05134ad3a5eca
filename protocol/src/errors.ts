import { z } from 'zod';

/** The closed set of error codes every Switchboard boundary speaks. */
export const ErrorCode = z.enum([
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'BUDGET_EXCEEDED',
  'HARNESS_UNAVAILABLE',
  'UPSTREAM_ERROR',
  'UNAVAILABLE',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** One problem with one field of an input; `path` is dotted (`members.0.email`), empty for the whole input. */
export const FieldIssue = z.object({
  path: z.string(),
  message: z.string(),
});
export type FieldIssue = z.infer<typeof FieldIssue>;

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string().min(1),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The one JSON error envelope of the REST API: `{ "error": { code, message, details? } }`. */
export const ErrorEnvelope = z.object({ error: ErrorBody });
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  BUDGET_EXCEEDED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UPSTREAM_ERROR: 502,
  HARNESS_UNAVAILABLE: 503,
  UNAVAILABLE: 503,
};

/**
 * JSON-RPC error codes. BAD_REQUEST reuses the standard "invalid params" code; the rest sit in the
 * implementation-defined server range (-32000..-32099). The `data.code` field always carries our code.
 */
export const JSONRPC_CODE: Record<ErrorCode, number> = {
  BAD_REQUEST: -32602,
  INTERNAL: -32603,
  UNAUTHORIZED: -32001,
  FORBIDDEN: -32003,
  NOT_FOUND: -32004,
  CONFLICT: -32009,
  PAYLOAD_TOO_LARGE: -32013,
  RATE_LIMITED: -32029,
  BUDGET_EXCEEDED: -32002,
  UPSTREAM_ERROR: -32052,
  HARNESS_UNAVAILABLE: -32053,
  UNAVAILABLE: -32050,
};

/** Turns zod issues into `FieldIssue`s, the shape every BAD_REQUEST carries in `details.issues`. */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/** A human sentence naming the first offending field, e.g. `email: Invalid email address`. */
export function describeIssues(issues: FieldIssue[]): string {
  const [first] = issues;
  if (!first) return 'The request is invalid.';
  const where = first.path === '' ? 'request' : first.path;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return `Invalid ${where}: ${first.message}${more}`;
}
