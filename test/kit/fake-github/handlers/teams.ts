import { type Handler, HttpError, notFound } from '../context.js';

/**
 * Team membership (`GET /orgs/{org}/teams/{team_slug}/memberships/{username}`). An installation
 * token needs the organization `members` permission (403 "Resource not accessible by integration"
 * otherwise) and sees only its own organization's teams; an unknown team or a non-member is a 404.
 */
export const teamHandlers: Record<string, Handler> = {
  'teams/get-membership-for-user-in-org': (req, f) => {
    const org = (req.params.org ?? '').toLowerCase();
    if (req.caller.kind !== 'installation') throw notFound();
    const token = req.caller.token;
    if (!token.permissions.members) throw new HttpError(403, 'Resource not accessible by integration');
    const installedOn = [...f.state.repos.values()].some(
      (r) => r.installationId === token.installationId && r.owner.toLowerCase() === org,
    );
    const team = f.state.teams.get(`${org}/${(req.params.team_slug ?? '').toLowerCase()}`);
    if (!installedOn || !team) throw notFound();
    const member = team.members.get((req.params.username ?? '').toLowerCase());
    if (!member) throw notFound();
    return {
      status: 200,
      body: {
        url: `${f.shapes.api}/organizations/${f.state.userId(team.org)}/team/${team.id}/memberships/${member.login}`,
        role: member.role,
        state: member.state,
      },
    };
  },
};
