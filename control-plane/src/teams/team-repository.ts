import type { Team, TeamMember } from '@switchboard/protocol';
import type { Queryable } from '../db/client.js';

interface TeamRow {
  id: string;
  name: string;
  created_at: Date;
}

interface MemberRow {
  team_id: string;
  user_id: string;
  email: string;
  display_name: string;
  role: TeamMember['role'];
  added_at: Date;
}

export async function insertTeam(sql: Queryable, name: string): Promise<Team> {
  const [row] = await sql<TeamRow[]>`insert into teams (name) values (${name}) returning *`;
  const team = row as TeamRow;
  return { id: team.id, name: team.name, createdAt: team.created_at.toISOString(), members: [] };
}

/** Teams with their members, in two queries whatever the number of teams. */
export async function listTeams(sql: Queryable, filter: { ids?: string[]; memberId?: string }): Promise<Team[]> {
  const teams = await sql<TeamRow[]>`
    select * from teams t
    where true
      ${filter.ids ? sql`and t.id = any(${filter.ids}::uuid[])` : sql``}
      ${filter.memberId ? sql`and exists (select 1 from team_members m where m.team_id = t.id and m.user_id = ${filter.memberId})` : sql``}
    order by lower(name)`;
  if (teams.length === 0) return [];
  const members = await sql<MemberRow[]>`
    select m.team_id, m.user_id, u.email, u.display_name, u.role, m.added_at
    from team_members m join users u on u.id = m.user_id
    where m.team_id = any(${teams.map((team) => team.id)}::uuid[])
    order by lower(u.email)`;
  return teams.map((team) => ({
    id: team.id,
    name: team.name,
    createdAt: team.created_at.toISOString(),
    members: members
      .filter((member) => member.team_id === team.id)
      .map((member) => ({
        userId: member.user_id,
        email: member.email,
        displayName: member.display_name,
        role: member.role,
        addedAt: member.added_at.toISOString(),
      })),
  }));
}

export async function teamExists(sql: Queryable, id: string): Promise<boolean> {
  const [row] = await sql<{ id: string }[]>`select id from teams where id = ${id} for share`;
  return row !== undefined;
}

export async function insertMember(sql: Queryable, teamId: string, userId: string): Promise<boolean> {
  const rows = await sql`insert into team_members (team_id, user_id) values (${teamId}, ${userId}) on conflict do nothing returning 1`;
  return rows.count === 1;
}

export async function deleteMember(sql: Queryable, teamId: string, userId: string): Promise<boolean> {
  const rows = await sql`delete from team_members where team_id = ${teamId} and user_id = ${userId}`;
  return rows.count === 1;
}

export async function teamsOfUser(sql: Queryable, userId: string): Promise<{ id: string; name: string }[]> {
  return sql<{ id: string; name: string }[]>`
    select t.id, t.name from teams t join team_members m on m.team_id = t.id
    where m.user_id = ${userId} order by lower(t.name)`;
}
