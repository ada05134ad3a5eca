-- The audit trail: append-only, each row chained to the previous one by SHA-256.
-- hash = sha256(prev_hash || canonical JSON of the row); see control-plane/src/audit/chain.ts.
create table audit_events (
  id bigint primary key,
  at timestamptz not null,
  actor_type text not null check (actor_type in ('user', 'system', 'anonymous')),
  actor_id uuid,
  token_id uuid,
  ip text,
  action text not null,
  target_type text,
  target_id text,
  outcome text not null check (outcome in ('ok', 'denied', 'error')),
  payload jsonb not null default '{}',
  prev_hash bytea not null,
  hash bytea not null
);
create index audit_events_at on audit_events (at, id);
create index audit_events_actor on audit_events (actor_id, id);
create index audit_events_action on audit_events (action text_pattern_ops, id);
create index audit_events_target on audit_events (target_type, target_id, id);

-- The chain's head: one row, locked FOR UPDATE by every append, which serializes appends and
-- keeps ids gap-free in commit order. A rolled-back append releases the lock without a trace.
create table audit_head (
  singleton boolean primary key default true check (singleton),
  last_id bigint not null,
  last_hash bytea not null
);
insert into audit_head (last_id, last_hash) values (0, decode(repeat('00', 32), 'hex'));

-- Where verification starts: moved forward only by the retention job, which deletes a prefix of
-- the chain and records the last deleted row's id and hash here.
create table audit_anchor (
  singleton boolean primary key default true check (singleton),
  through_id bigint not null,
  hash bytea not null
);
insert into audit_anchor (through_id, hash) values (0, decode(repeat('00', 32), 'hex'));

create function audit_refuse_change() returns trigger language plpgsql as $$
begin
  if tg_table_name = 'audit_events' and tg_op = 'DELETE'
     and current_setting('switchboard.audit_retention', true) = 'on' then
    return old;
  end if;
  if tg_table_name = 'audit_anchor' and tg_op = 'UPDATE'
     and current_setting('switchboard.audit_retention', true) = 'on' then
    return new;
  end if;
  raise exception 'the audit trail is append-only (% on %)', tg_op, tg_table_name
    using errcode = 'insufficient_privilege';
end;
$$;

create trigger audit_events_append_only before update or delete on audit_events
  for each row execute function audit_refuse_change();
create trigger audit_events_no_truncate before truncate on audit_events
  for each statement execute function audit_refuse_change();
create trigger audit_anchor_guard before update or delete on audit_anchor
  for each row execute function audit_refuse_change();
