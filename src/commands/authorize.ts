import type { Actor, ForgeWords, RepoPermission } from '../forge/types.js';

/**
 * Who may trigger Forge. Pure: the caller fetches the permission from the forge's permission API
 * (never from author association, which says nothing about write access).
 */

export interface AuthorizeInput {
  actor: Actor;
  /** `undefined` when the forge could not say (e.g. the user is not a collaborator). */
  permission: RepoPermission | undefined;
  /** Forge's own identities, e.g. `my-forge[bot]`, so it never answers itself. */
  botLogins: readonly string[];
  /**
   * The repository's `allowedUsers` and `allowedTeams` (from its settings file on the default
   * branch). When either is set, only the listed logins and members of the listed teams may trigger
   * — and they still need write access: the lists narrow, never widen.
   */
  allowedUsers?: readonly string[];
  allowedTeams?: readonly string[];
  /** The team of `allowedTeams` the caller found the actor to be an active member of, if any. */
  memberOf?: string;
  /** The host's words for the replies (default: plain wording that fits any host). */
  words?: Pick<ForgeWords, 'writeAccess' | 'settingsPath' | 'repository'>;
}

export type AuthorizeDecision =
  | { decision: 'allow' }
  /** No reply: answering bots invites loops, and they cannot read the answer anyway. */
  | { decision: 'ignore'; reason: string }
  | { decision: 'refuse'; reply: string };

const ALLOWED: ReadonlySet<RepoPermission> = new Set<RepoPermission>(['write', 'maintain', 'admin']);

export function authorize(input: AuthorizeInput): AuthorizeDecision {
  const { actor, permission, botLogins, allowedUsers, allowedTeams } = input;
  const words = input.words ?? {
    writeAccess: 'write access to this repository',
    settingsPath: 'Forge settings file',
    repository: 'repository',
  };
  const login = actor.login.toLowerCase();
  if (botLogins.some((b) => b.toLowerCase() === login)) return { decision: 'ignore', reason: 'own comment' };
  if (actor.isBot || login.endsWith('[bot]')) return { decision: 'ignore', reason: 'actor is a bot' };
  const canWrite = permission !== undefined && ALLOWED.has(permission);
  const listed =
    allowedUsers?.some((u) => u.toLowerCase() === login) ||
    (input.memberOf !== undefined && allowedTeams !== undefined);
  if (canWrite && (allowedUsers || allowedTeams) && !listed) {
    const lists = [
      allowedUsers ? 'on `allowedUsers`' : '',
      allowedTeams ? `a member of ${allowedTeams.map((t) => `\`${t}\``).join(', ')} (\`allowedTeams\`)` : '',
    ].filter(Boolean);
    return {
      decision: 'refuse',
      reply: `@${actor.login} This ${words.repository}'s \`${words.settingsPath}\` limits who may ask Forge, and you are not ${lists.join(' nor ')}.`,
    };
  }
  if (canWrite) return { decision: 'allow' };
  return {
    decision: 'refuse',
    reply: `@${actor.login} Forge only takes instructions from people with ${words.writeAccess}.`,
  };
}
