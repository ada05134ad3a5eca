import type { Team } from '@switchboard/protocol';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { AuthContext } from '../auth/auth-plugin.js';
import type { Sql } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { conflict, notFound } from '../errors.js';
import { getUser } from '../users/user-repository.js';
import { deleteMember, insertMember, insertTeam, listTeams, teamExists } from './team-repository.js';

export type TeamService = ReturnType<typeof createTeamService>;

/** Admins and viewers see every team; members see the teams they belong to. */
const seesAll = (auth: AuthContext) => auth.user.role === 'admin' || auth.user.role === 'viewer';

export function createTeamService({ sql, audit }: { sql: Sql; audit: AuditService }) {
  return {
    async create(actor: Actor, name: string): Promise<Team> {
      try {
        return await sql.begin(async (tx) => {
          const team = await insertTeam(tx, name);
          await audit.record(tx, actor, { action: 'team.create', target: { type: 'team', id: team.id }, payload: { name } });
          return team;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`A team named "${name}" already exists.`);
        throw error;
      }
    },

    list(auth: AuthContext): Promise<Team[]> {
      return listTeams(sql, seesAll(auth) ? {} : { memberId: auth.user.id });
    },

    async get(auth: AuthContext, id: string): Promise<Team> {
      const [team] = await listTeams(sql, { ids: [id] });
      if (!team || (!seesAll(auth) && !team.members.some((member) => member.userId === auth.user.id))) throw notFound('Team');
      return team;
    },

    async addMember(actor: Actor, teamId: string, userId: string): Promise<Team> {
      await sql.begin(async (tx) => {
        if (!(await teamExists(tx, teamId))) throw notFound('Team');
        const user = await getUser(tx, userId);
        if (!user) throw notFound('User');
        if (!(await insertMember(tx, teamId, userId))) throw conflict(`${user.email} is already a member of this team.`);
        await audit.record(tx, actor, {
          action: 'team.member.add',
          target: { type: 'team', id: teamId },
          payload: { userId, email: user.email },
        });
      });
      return this.getUnchecked(teamId);
    },

    async removeMember(actor: Actor, teamId: string, userId: string): Promise<Team> {
      await sql.begin(async (tx) => {
        if (!(await teamExists(tx, teamId))) throw notFound('Team');
        if (!(await deleteMember(tx, teamId, userId))) throw notFound('Team member');
        await audit.record(tx, actor, { action: 'team.member.remove', target: { type: 'team', id: teamId }, payload: { userId } });
      });
      return this.getUnchecked(teamId);
    },

    async getUnchecked(id: string): Promise<Team> {
      const [team] = await listTeams(sql, { ids: [id] });
      if (!team) throw notFound('Team');
      return team;
    },
  };
}
