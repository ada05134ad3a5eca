import { describeIssues, ErrorCode, ErrorEnvelope, HTTP_STATUS, JSONRPC_CODE, toFieldIssues } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('error envelope', () => {
  it('parses a well-formed envelope, with and without details', () => {
    expect(ErrorEnvelope.parse({ error: { code: 'NOT_FOUND', message: 'User was not found.' } }).error.code).toBe('NOT_FOUND');
    const withDetails = {
      error: { code: 'BAD_REQUEST', message: 'Invalid body.email', details: { issues: [{ path: 'email', message: 'x' }] } },
    };
    expect(ErrorEnvelope.parse(withDetails)).toEqual(withDetails);
  });

  it('rejects unknown codes, empty messages and missing fields', () => {
    expect(ErrorEnvelope.safeParse({ error: { code: 'TEAPOT', message: 'x' } }).success).toBe(false);
    expect(ErrorEnvelope.safeParse({ error: { code: 'NOT_FOUND', message: '' } }).success).toBe(false);
    expect(ErrorEnvelope.safeParse({ error: { message: 'x' } }).success).toBe(false);
    expect(ErrorEnvelope.safeParse({ code: 'NOT_FOUND', message: 'x' }).success).toBe(false);
  });

  it('maps every code to an HTTP status and a distinct JSON-RPC code', () => {
    for (const code of ErrorCode.options) {
      expect(HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
      expect(JSONRPC_CODE[code]).toBeLessThan(-32000 + 1);
    }
    const rpcCodes = ErrorCode.options.map((code) => JSONRPC_CODE[code]);
    expect(new Set(rpcCodes).size).toBe(rpcCodes.length);
    expect(HTTP_STATUS.BUDGET_EXCEEDED).toBe(402);
    expect(HTTP_STATUS.CONFLICT).toBe(409);
  });

  it('names the offending field in issues and in the sentence', () => {
    const schema = z.object({ user: z.object({ email: z.email() }), age: z.number() });
    const result = schema.safeParse({ user: { email: 'nope' }, age: 'x' });
    expect(result.success).toBe(false);
    const issues = toFieldIssues(result.error as z.ZodError);
    expect(issues.map((issue) => issue.path)).toEqual(['user.email', 'age']);
    expect(describeIssues(issues)).toMatch(/^Invalid user\.email: .+ \(and 1 more problem\)$/);
    expect(describeIssues([])).toBe('The request is invalid.');
    expect(describeIssues([{ path: '', message: 'Expected object' }])).toBe('Invalid request: Expected object');
  });
});
