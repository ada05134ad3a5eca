-- Scheduled runs: a prompt sent to an agent on a cron, as its owner, under the owner's budget.
create table schedules (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  owner_id uuid not null references users (id),
  team_id uuid references teams (id) on delete set null,
  -- The agent name `session/create` takes; `agent_id` pins a defined agent across renames.
  agent text not null default 'build',
  agent_id uuid,
  model text,
  prompt text not null,
  workspace jsonb not null default '{"kind":"empty"}',
  policy jsonb,
  cron text not null,
  time_zone text not null,
  enabled boolean not null default true,
  -- The next slot to fire; null while disabled. Claimed with a compare-and-set on this value.
  next_run_at timestamptz,
  created_by uuid references users (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index schedules_owner_name on schedules (owner_id, lower(name));
create index schedules_due on schedules (next_run_at) where enabled;

-- Agents may be defined by an earlier migration; the link is added only where they exist.
do $$
begin
  if to_regclass('agents') is not null then
    alter table schedules add constraint schedules_agent foreign key (agent_id) references agents (id) on delete set null;
  end if;
end
$$;

-- One row per slot: the unique key makes "only one control plane fires each run" hold by construction.
create table schedule_runs (
  id uuid primary key default gen_random_uuid(),
  schedule_id uuid not null references schedules (id) on delete cascade,
  scheduled_for timestamptz not null,
  trigger text not null check (trigger in ('cron', 'catch-up', 'manual')),
  status text not null check (status in ('running', 'succeeded', 'failed', 'skipped')),
  reason text,
  session_id uuid references sessions (id) on delete set null,
  -- Which control plane drives the run, and until when it vouches for it (renewed while it runs).
  runner text,
  lease_until timestamptz,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (schedule_id, scheduled_for)
);
create index schedule_runs_page on schedule_runs (schedule_id, scheduled_for desc, id desc);
create index schedule_runs_running on schedule_runs (lease_until) where status = 'running';
