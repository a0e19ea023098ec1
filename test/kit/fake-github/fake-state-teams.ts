import { FakeGitHubReviewState } from './fake-state-reviews.js';

/**
 * Seeding organization teams (for `allowedTeams`) and what an installation was granted. A team is
 * `org/slug`; a member is active unless the invitation is still `pending`.
 */
export class FakeGitHubTeamState extends FakeGitHubReviewState {
  /** Creates (or replaces) a team with these members. */
  addTeam(
    org: string,
    slug: string,
    members: readonly (
      | string
      | { login: string; state?: 'active' | 'pending'; role?: 'member' | 'maintainer' }
    )[],
  ): { id: number } {
    const id = this.state.id();
    this.state.teams.set(`${org}/${slug}`.toLowerCase(), {
      id,
      org,
      slug,
      name: slug,
      members: new Map(
        members.map((m) => {
          const member = typeof m === 'string' ? { login: m } : m;
          return [
            member.login.toLowerCase(),
            { login: member.login, role: member.role ?? 'member', state: member.state ?? 'active' },
          ];
        }),
      ),
    });
    return { id };
  }

  /**
   * What installation tokens minted from now on may hold: as when an organization owner has not yet
   * approved a permission the App asks for.
   */
  setGrantedPermissions(installationId: number, permissions: Record<string, string>): void {
    this.state.grantedPermissions.set(installationId, permissions);
  }
}
