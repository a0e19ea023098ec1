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
   * The repository's `allowedUsers` (from its settings file on the default branch). When set, only
   * these logins may trigger — and they still need write access: the list narrows, never widens.
   */
  allowedUsers?: readonly string[];
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
  const { actor, permission, botLogins, allowedUsers } = input;
  const words = input.words ?? {
    writeAccess: 'write access to this repository',
    settingsPath: 'Forge settings file',
    repository: 'repository',
  };
  const login = actor.login.toLowerCase();
  if (botLogins.some((b) => b.toLowerCase() === login)) return { decision: 'ignore', reason: 'own comment' };
  if (actor.isBot || login.endsWith('[bot]')) return { decision: 'ignore', reason: 'actor is a bot' };
  const canWrite = permission !== undefined && ALLOWED.has(permission);
  if (canWrite && allowedUsers && !allowedUsers.some((u) => u.toLowerCase() === login)) {
    return {
      decision: 'refuse',
      reply: `@${actor.login} This ${words.repository}'s \`${words.settingsPath}\` limits who may ask Forge (\`allowedUsers\`), and you are not on that list.`,
    };
  }
  if (canWrite) return { decision: 'allow' };
  return {
    decision: 'refuse',
    reply: `@${actor.login} Forge only takes instructions from people with ${words.writeAccess}.`,
  };
}
