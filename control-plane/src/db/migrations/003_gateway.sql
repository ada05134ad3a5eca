-- Providers (with their keys encrypted by the vault), models and prices, budgets, reservations,
-- usage and per-session gateway keys. Money is integer micro-dollars everywhere.
create table providers (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  kind text not null check (kind in ('anthropic', 'openai', 'openai-compatible')),
  base_url text not null,
  api_key_sealed text,
  api_key_last4 text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index providers_name_key on providers (lower(name));

create table models (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  provider_id uuid not null references providers (id),
  upstream_model text not null,
  context_limit integer not null check (context_limit > 0),
  output_limit integer not null check (output_limit > 0),
  -- micro-dollars per million tokens
  price_input bigint not null check (price_input >= 0),
  price_output bigint not null check (price_output >= 0),
  price_cache_read bigint not null check (price_cache_read >= 0),
  price_cache_write bigint not null check (price_cache_write >= 0),
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index models_name_key on models (name);
create index models_provider on models (provider_id);

-- Which environment keys were imported into the vault already (so the import happens once).
create table vault_imports (
  variable text primary key,
  provider_id uuid references providers (id) on delete set null,
  imported_at timestamptz not null default now()
);

create table budgets (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references users (id),
  team_id uuid references teams (id) on delete cascade,
  period text not null check (period in ('day', 'week', 'month', 'total')),
  limit_micros bigint not null check (limit_micros >= 0),
  soft_alert_pct integer not null default 80 check (soft_alert_pct between 1 and 100),
  period_start timestamptz not null,
  spent_micros bigint not null default 0 check (spent_micros >= 0),
  reserved_micros bigint not null default 0 check (reserved_micros >= 0),
  alerted_period_start timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((user_id is null) <> (team_id is null))
);
create unique index budgets_user_period on budgets (user_id, period) where user_id is not null;
create unique index budgets_team_period on budgets (team_id, period) where team_id is not null;

-- Worst-case cost held against budgets while a model call runs; settled or swept afterwards.
create table reservations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id),
  amount_micros bigint not null check (amount_micros >= 0),
  budget_ids uuid[] not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index reservations_expires on reservations (expires_at);

-- Keys the harness uses for one session: they spend only their user's budget and die with the session.
create table session_keys (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id),
  session_id uuid not null,
  key_hash bytea not null unique,
  hint text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
create index session_keys_session on session_keys (session_id);

-- OpenCode's own session ids (main and subagents) and whose they are, filled in by the harness.
create table harness_sessions (
  harness_session_id text primary key,
  user_id uuid not null references users (id),
  session_id uuid not null,
  created_at timestamptz not null default now()
);

create table usage_events (
  id bigserial primary key,
  at timestamptz not null default now(),
  user_id uuid not null references users (id),
  session_id uuid,
  harness_session_id text,
  token_id uuid,
  model text not null,
  provider_id uuid,
  format text not null check (format in ('openai', 'anthropic')),
  stream boolean not null,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  cache_read_tokens bigint not null default 0,
  cache_write_tokens bigint not null default 0,
  cost_micros bigint not null default 0,
  reserved_micros bigint not null default 0,
  usage_reported boolean not null,
  latency_ms integer not null,
  outcome text not null check (outcome in ('ok', 'upstream_error', 'client_aborted', 'broken_stream')),
  status integer not null
);
create index usage_events_user_at on usage_events (user_id, at);
create index usage_events_session on usage_events (session_id, at);

-- Soft-alert crossings: one per budget and period, kept for delivery to VS Code.
create table budget_alerts (
  id bigserial primary key,
  at timestamptz not null default now(),
  budget_id uuid not null references budgets (id) on delete cascade,
  user_id uuid references users (id),
  team_id uuid references teams (id) on delete cascade,
  period_start timestamptz not null,
  spent_micros bigint not null,
  limit_micros bigint not null,
  delivered_at timestamptz
);
