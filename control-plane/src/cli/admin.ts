import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CreatedToken, ErrorEnvelope, Role, User, UserPage } from '@switchboard/protocol';
import type { z } from 'zod';

interface Target {
  url: string;
  token: string;
}

/** `switchboard admin …`: a thin client of the REST API, so it works against any control plane. */
export async function runAdminCommand(argv: string[]): Promise<number> {
  const [noun, verb, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      user: { type: 'string' },
      days: { type: 'string' },
      all: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const target = await resolveTarget(values.url, values.token);
  const out = (value: unknown, human: string) => process.stdout.write(values.json ? `${JSON.stringify(value, null, 2)}\n` : `${human}\n`);

  if (noun === 'user' && verb === 'add') {
    if (!values.email) throw new Error('admin user add needs --email.');
    const role = Role.parse(values.role ?? 'member');
    const user = await call(
      target,
      'POST',
      '/users',
      { email: values.email, displayName: values.name ?? values.email.split('@')[0], role },
      User,
    );
    out(user, `Created ${user.role} ${user.email} (${user.id})`);
    return 0;
  }
  if (noun === 'user' && verb === 'list') {
    const query = new URLSearchParams({ limit: '500', includeDisabled: String(values.all) });
    if (values.role) query.set('role', Role.parse(values.role));
    const page = await call(target, 'GET', `/users?${query}`, undefined, UserPage);
    out(
      page.items,
      page.items
        .map((user) => `${user.id}  ${user.role.padEnd(6)}  ${user.disabled ? 'disabled ' : ''}${user.email}  ${user.displayName}`)
        .join('\n') || '(no users)',
    );
    return 0;
  }
  if (noun === 'token' && verb === 'create') {
    const userId = values.user ? await resolveUserId(target, values.user) : undefined;
    const days = values.days ? Number(values.days) : undefined;
    const body = { name: values.name ?? 'cli', ...(userId ? { userId } : {}), ...(days ? { expiresInDays: days } : {}) };
    const created = await call(target, 'POST', '/tokens', body, CreatedToken);
    out(created, `Token: ${created.token}\n(shown once; id ${created.id}${created.expiresAt ? `, expires ${created.expiresAt}` : ''})`);
    return 0;
  }
  throw new Error(`Unknown admin command "${[noun, verb].filter(Boolean).join(' ')}". Run "switchboard help".`);
}

async function resolveTarget(url: string | undefined, token: string | undefined): Promise<Target> {
  const base = (url ?? process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:7420').replace(/\/$/, '');
  const fromFile = async () => {
    const file = path.join(path.resolve(process.env.SWITCHBOARD_DATA_DIR ?? './.switchboard'), 'admin-token');
    return (await readFile(file, 'utf8').catch(() => '')).trim();
  };
  const resolved = token ?? process.env.SWITCHBOARD_TOKEN ?? (await fromFile());
  if (!resolved)
    throw new Error('No token: pass --token, set SWITCHBOARD_TOKEN, or run where the admin-token file is (SWITCHBOARD_DATA_DIR).');
  return { url: base, token: resolved };
}

async function resolveUserId(target: Target, user: string): Promise<string> {
  if (!user.includes('@')) return user;
  const page = await call(target, 'GET', '/users?limit=500&includeDisabled=true', undefined, UserPage);
  const found = page.items.find((item) => item.email === user.toLowerCase());
  if (!found) throw new Error(`No user with email ${user}.`);
  return found.id;
}

async function call<T extends z.ZodType>(target: Target, method: string, route: string, body: unknown, schema: T): Promise<z.infer<T>> {
  let response: Response;
  try {
    response = await fetch(`${target.url}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new Error(`Cannot reach the control plane at ${target.url} (${(error as Error).message}). Is it running (npm start)?`);
  }
  const json: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const parsed = ErrorEnvelope.safeParse(json);
    throw new Error(parsed.success ? `${parsed.data.error.code}: ${parsed.data.error.message}` : `HTTP ${response.status} from ${route}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`Unexpected answer from ${route}; is the control plane the same version as this CLI?`);
  return parsed.data;
}
