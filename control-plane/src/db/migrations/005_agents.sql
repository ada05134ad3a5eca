-- Agents defined once for the team: a live row per agent and an immutable row per version.
create table agents (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  -- Visibility: null = everyone; else members of that team (and admins).
  team_id uuid references teams (id),
  current_version integer not null default 1 check (current_version > 0),
  created_by uuid references users (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz
);
-- Names are unique among live agents; an archived agent's name can be given to a new one.
create unique index agents_name on agents (name) where archived_at is null;

create table agent_versions (
  agent_id uuid not null references agents (id),
  version integer not null check (version > 0),
  description text not null default '',
  model text,
  system_prompt text not null,
  tool_policy jsonb,
  skills jsonb not null default '[]',
  -- Secret values are never stored here: only `{ "secret": "<name>" }` references to `secrets`.
  mcp_servers jsonb not null default '{}',
  memory boolean not null default false,
  max_budget_per_session_micros bigint check (max_budget_per_session_micros >= 0),
  created_by uuid references users (id),
  created_at timestamptz not null default now(),
  primary key (agent_id, version)
);

create function agent_versions_immutable() returns trigger language plpgsql as $$
begin
  raise exception 'agent versions are immutable: create a new version instead';
end;
$$;
create trigger agent_versions_no_update before update on agent_versions
  for each row execute function agent_versions_immutable();

-- A session records the agent version it ran with, and that version's spending cap.
alter table sessions
  add column agent_id uuid references agents (id),
  add column agent_version integer,
  add column budget_cap_micros bigint,
  add constraint sessions_agent_version foreign key (agent_id, agent_version) references agent_versions (agent_id, version);
create index sessions_agent on sessions (agent_id) where agent_id is not null;

-- Values agents' MCP servers need (tokens, passwords), sealed by the vault with the row id as context.
create table secrets (
  id uuid primary key default gen_random_uuid(),
  name text not null unique,
  value_sealed text not null,
  last4 text not null,
  created_by uuid references users (id),
  updated_by uuid references users (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Durable notes per agent and user, read and written by the agent across sessions.
create table agent_memories (
  agent_id uuid not null references agents (id),
  user_id uuid not null references users (id),
  key text not null,
  content text not null,
  bytes integer not null check (bytes >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (agent_id, user_id, key)
);
