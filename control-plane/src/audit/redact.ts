/** Field names whose values never enter the audit trail, whatever they hold. */
const SECRET_FIELD =
  /(^|[-_])?(password|passwd|secret|token|api[-_]?key|authorization|credentials?|private[-_]?key|master[-_]?key|cookie)$/i;

/** Values that look like credentials, wherever they appear inside a string. */
const SECRET_VALUE = [
  /\bsb_[A-Za-z0-9_-]{20,}/g,
  /\bsbk_[A-Za-z0-9_-]{20,}/g,
  /\bsk-(?:ant-)?[A-Za-z0-9_-]{16,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{30,}/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
];

export const REDACTED = '[redacted]';

export function redactString(value: string): string {
  // PostgreSQL's jsonb refuses NUL and lone surrogates; drop or replace them rather than lose the row.
  let out = value.replaceAll('\u0000', '').toWellFormed();
  for (const pattern of SECRET_VALUE) out = out.replace(pattern, REDACTED);
  return out;
}

/**
 * Returns a JSON-safe copy with secrets removed by field name and by value pattern. Dates become
 * ISO strings and `undefined` fields disappear, exactly as they would after a JSON round trip, so
 * the hash computed before insert matches what is read back.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[too deep]';
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return redactString(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : redact(item, depth + 1)));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined || typeof item === 'function') continue;
      out[key] = SECRET_FIELD.test(key) ? REDACTED : redact(item, depth + 1);
    }
    return out;
  }
  return undefined;
}
