import {
  AddMemberBody,
  AuditQuery,
  CreatedToken,
  CreateTeamBody,
  CreateTokenBody,
  CreateUserBody,
  ListUsersQuery,
  UpdateUserBody,
  User,
} from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';

const uuid = '3f1c2a4e-8b7d-4c1a-9e2f-0a1b2c3d4e5f';
const at = '2026-11-24T10:00:00.000Z';

describe('user bodies', () => {
  it('accepts a new user, lowercasing the email and defaulting the role', () => {
    expect(CreateUserBody.parse({ email: 'Ada@Example.COM', displayName: ' Ada ' })).toEqual({
      email: 'ada@example.com',
      displayName: 'Ada',
      role: 'member',
    });
  });

  it('rejects bad emails, unknown roles, unknown fields and empty names', () => {
    expect(CreateUserBody.safeParse({ email: 'ada', displayName: 'Ada' }).error?.issues[0]?.path).toEqual(['email']);
    expect(CreateUserBody.safeParse({ email: 'a@b.co', displayName: 'Ada', role: 'owner' }).error?.issues[0]?.path).toEqual(['role']);
    expect(CreateUserBody.safeParse({ email: 'a@b.co', displayName: 'Ada', isAdmin: true }).success).toBe(false);
    expect(CreateUserBody.safeParse({ email: 'a@b.co', displayName: '   ' }).success).toBe(false);
  });

  it('requires at least one change in an update', () => {
    expect(UpdateUserBody.safeParse({}).success).toBe(false);
    expect(UpdateUserBody.parse({ disabled: true })).toEqual({ disabled: true });
    expect(UpdateUserBody.safeParse({ email: 'x@y.z' }).success).toBe(false);
  });

  it('parses list queries from strings', () => {
    expect(ListUsersQuery.parse({ limit: '20', includeDisabled: 'true' })).toEqual({ limit: 20, includeDisabled: true });
    expect(ListUsersQuery.safeParse({ limit: '0' }).success).toBe(false);
    expect(ListUsersQuery.safeParse({ limit: '501' }).success).toBe(false);
  });

  it('round-trips a user', () => {
    const user = { id: uuid, email: 'a@b.co', displayName: 'A', role: 'viewer', disabled: false, createdAt: at, updatedAt: at };
    expect(User.parse(user)).toEqual(user);
    expect(User.safeParse({ ...user, id: 'not-a-uuid' }).success).toBe(false);
  });
});

describe('token bodies', () => {
  it('accepts a name, an optional user and an expiry in days', () => {
    expect(CreateTokenBody.parse({ name: 'laptop', expiresInDays: 30 })).toEqual({ name: 'laptop', expiresInDays: 30 });
    expect(CreateTokenBody.safeParse({ name: 'laptop', expiresInDays: 0 }).success).toBe(false);
    expect(CreateTokenBody.safeParse({ name: '' }).success).toBe(false);
    expect(CreateTokenBody.safeParse({ name: 'x', userId: 'bob' }).success).toBe(false);
  });

  it('only accepts sb_ tokens in a created token', () => {
    const base = { id: uuid, userId: uuid, name: 'x', hint: 'sb_abcd', createdAt: at, expiresAt: null, lastUsedAt: null, revokedAt: null };
    expect(CreatedToken.safeParse({ ...base, token: `sb_${'a'.repeat(43)}` }).success).toBe(true);
    expect(CreatedToken.safeParse({ ...base, token: `sk_${'a'.repeat(43)}` }).success).toBe(false);
  });
});

describe('team bodies', () => {
  it('validates team names and member ids', () => {
    expect(CreateTeamBody.parse({ name: ' Platform team ' })).toEqual({ name: 'Platform team' });
    expect(CreateTeamBody.safeParse({ name: '../etc' }).success).toBe(false);
    expect(AddMemberBody.safeParse({ userId: 'x' }).success).toBe(false);
    expect(AddMemberBody.parse({ userId: uuid })).toEqual({ userId: uuid });
  });
});

describe('audit query', () => {
  it('accepts filters and a numeric cursor', () => {
    expect(AuditQuery.parse({ action: 'token.', cursor: '42', limit: '10' })).toMatchObject({ action: 'token.', cursor: '42', limit: 10 });
    expect(AuditQuery.safeParse({ action: "x' or 1=1" }).success).toBe(false);
    expect(AuditQuery.safeParse({ cursor: '-1' }).success).toBe(false);
    expect(AuditQuery.safeParse({ from: 'yesterday' }).success).toBe(false);
  });
});
