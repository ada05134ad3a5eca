-- Who may allow an ask: the session's owner, or (when a policy rule says so) an admin only.
alter table approvals add column approver text not null default 'owner' check (approver in ('owner', 'admin'));
-- An approval of a tool use, spent by the one MCP call it allowed (an `always` answer is never spent).
alter table approvals add column used_at timestamptz;
