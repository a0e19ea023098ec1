import type { Logger } from 'pino';
import { type AuthorizeDecision, authorize } from '../commands/authorize.js';
import { renderAccessRefusal } from '../config/repo-access.js';
import type { ParsedRepoSettings } from '../config/repo-settings.js';
import type { Actor, Forge, RepoPermission } from '../forge/types.js';
import { explainError } from '../tasks/explain.js';

/**
 * Authorization with the repository's settings, in the event job (never on the webhook path): only
 * writers get this far; a broken access list refuses them all (fail closed); otherwise
 * `allowedUsers` and `allowedTeams` narrow who may trigger. Team membership is asked only for a
 * writer not on `allowedUsers`, team by team until one says yes; when none does and a check failed,
 * the trigger is refused with what went wrong, never let through.
 */
export async function authorizeWithSettings(input: {
  forge: Forge;
  actor: Actor;
  permission: RepoPermission | undefined;
  botLogins: readonly string[];
  loaded: ParsedRepoSettings;
  /** The branch the settings were read from (the default branch). */
  ref: string;
  log: Logger;
}): Promise<AuthorizeDecision> {
  const { forge, actor, permission, botLogins, loaded } = input;
  const words = forge.words;
  const writer = authorize({ actor, permission, botLogins, words });
  if (writer.decision !== 'allow') return writer;
  if (loaded.accessProblems?.length) {
    return {
      decision: 'refuse',
      reply: renderAccessRefusal({
        login: actor.login,
        problems: loaded.accessProblems,
        path: words.settingsPath,
        ref: input.ref,
      }),
    };
  }
  const { allowedUsers, allowedTeams } = loaded.settings;
  const login = actor.login.toLowerCase();
  let memberOf: string | undefined;
  let failure: { team: string; error: unknown } | undefined;
  if (allowedTeams && !allowedUsers?.some((u) => u.toLowerCase() === login)) {
    for (const team of allowedTeams) {
      try {
        if (await forge.isTeamMember(team, actor.login)) {
          memberOf = team;
          break;
        }
      } catch (error) {
        input.log.warn({ err: error, team }, 'could not check team membership');
        failure ??= { team, error };
      }
    }
  }
  if (memberOf === undefined && failure) {
    return {
      decision: 'refuse',
      reply: `@${actor.login} Forge could not check whether you are a member of \`${failure.team}\` (\`allowedTeams\` in \`${words.settingsPath}\`): ${explainError(failure.error, words)} Until it can, Forge refuses rather than guess.`,
    };
  }
  return authorize({
    actor,
    permission,
    botLogins,
    words,
    ...(allowedUsers ? { allowedUsers } : {}),
    ...(allowedTeams ? { allowedTeams } : {}),
    ...(memberOf ? { memberOf } : {}),
  });
}
