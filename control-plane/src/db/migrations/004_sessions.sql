-- Agent sessions on the shared harness, their gap-free event log, and pending approvals.
create table sessions (
  id uuid primary key,
  user_id uuid not null references users (id),
  team_id uuid references teams (id) on delete set null,
  title text not null,
  agent text not null,
  model text not null,
  status text not null default 'idle' check (status in ('idle', 'busy', 'retry', 'error', 'archived')),
  workspace_dir text not null,
  harness_session_id text,
  policy jsonb,
  last_seq bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz
);
create index sessions_user on sessions (user_id, updated_at desc);
create index sessions_team on sessions (team_id) where team_id is not null;
create unique index sessions_harness on sessions (harness_session_id) where harness_session_id is not null;

-- Every event a client can see, numbered 1, 2, 3 … per session with no gap; stored before it is sent.
create table session_events (
  session_id uuid not null references sessions (id) on delete cascade,
  seq bigint not null,
  at timestamptz not null default now(),
  type text not null,
  event jsonb not null,
  primary key (session_id, seq)
);

-- Tool approvals waiting for a person; they survive restarts and time out.
create table approvals (
  id text primary key,
  session_id uuid not null references sessions (id) on delete cascade,
  kind text not null check (kind in ('permission', 'question')),
  tool text not null,
  patterns jsonb not null default '[]',
  title text not null,
  status text not null default 'pending' check (status in ('pending', 'once', 'always', 'reject', 'answered', 'expired')),
  decided_by text check (decided_by in ('user', 'policy', 'timeout', 'system')),
  decided_by_user uuid references users (id),
  asked_at timestamptz not null default now(),
  expires_at timestamptz not null,
  decided_at timestamptz
);
create index approvals_pending on approvals (expires_at) where status = 'pending';

-- Files a user uploads to seed a session's workspace; used once, then removed.
create table uploads (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id),
  files integer not null,
  bytes bigint not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);

-- Team default approval policy (a list of allow / ask / deny rules); null: the built-in default.
alter table teams add column approval_policy jsonb;
