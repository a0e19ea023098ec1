/**
 * Who may ask Forge in a repository, from its settings file: `allowedUsers` (logins) and
 * `allowedTeams` (GitHub `org/team-slug`, GitLab group paths). Both only narrow: everyone on them
 * still needs write access. A broken access list fails closed — when the file cannot be read as a
 * mapping and mentions one of the keys, when a key is present but invalid, or when an unknown key
 * looks like one of them — Forge refuses every trigger until the file is fixed, instead of letting
 * in everyone the list was meant to keep out.
 */
import { z } from 'zod';
import { editDistance } from '../commands/near-miss.js';

export const ACCESS_KEYS = ['allowedUsers', 'allowedTeams'] as const;
const MAX_TEAMS = 20;

/** Which host's team names to expect (absent: either). */
export type TeamStyle = 'github' | 'gitlab';

// GitHub logins (letters, digits, `-`) and GitLab usernames (also `_` and `.`).
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const GITHUB_TEAM = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const GROUP_PATH = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}(\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,254})*$/;

/** A string or a list of strings (YAML lists, or one value), each without a leading `@`. */
const entries = (what: string) =>
  z
    .union([z.string(), z.array(z.string())], { message: `expected a list of ${what}` })
    .transform((v) => (Array.isArray(v) ? v : [v]).map((e) => e.trim().replace(/^@/, '')));

export function accessSchemas(teams: TeamStyle | undefined) {
  const teamShape = teams === 'github' ? GITHUB_TEAM : GROUP_PATH;
  const teamForm =
    teams === 'github'
      ? '`org/team-slug`'
      : teams === 'gitlab'
        ? 'group paths such as `group` or `group/subgroup`'
        : '`org/team-slug` (GitHub) or group paths (GitLab)';
  return {
    allowedUsers: entries('logins').superRefine((list, ctx) => {
      if (!list.length) ctx.addIssue({ code: 'custom', message: emptyMessage('logins') });
      for (const entry of list) {
        if (entry.includes('/') && GROUP_PATH.test(entry)) {
          ctx.addIssue({
            code: 'custom',
            message: `\`${entry}\` is a team, not a login: list it under \`allowedTeams\``,
          });
        } else if (!LOGIN.test(entry)) {
          ctx.addIssue({
            code: 'custom',
            message: `expected user names (letters, digits, \`-\`, \`_\` and \`.\`), not ${JSON.stringify(entry).slice(0, 60)}`,
          });
        }
      }
    }),
    allowedTeams: entries(`teams as ${teamForm}`)
      .transform((list) => (teams === 'github' ? list.map((t) => t.toLowerCase()) : list))
      .superRefine((list, ctx) => {
        if (!list.length) ctx.addIssue({ code: 'custom', message: emptyMessage('teams') });
        // Each is an API call for a writer on no list: keep it to a handful.
        if (list.length > MAX_TEAMS)
          ctx.addIssue({ code: 'custom', message: `expected at most ${MAX_TEAMS} teams` });
        for (const entry of list) {
          if (!teamShape.test(entry)) {
            ctx.addIssue({
              code: 'custom',
              message: `expected teams as ${teamForm}, not ${JSON.stringify(entry).slice(0, 60)}`,
            });
          }
        }
      }),
  };
}

function emptyMessage(what: string): string {
  return `expected a non-empty list of ${what} (an empty list would let nobody ask; to let everyone with write access ask, remove the key)`;
}

/** Whether the text of a settings file that could not be read mentions an access-list key. */
export function mentionsAccessList(source: string): boolean {
  return /allowed[\s_-]*(users|teams)/i.test(source);
}

/** The access-list key an unknown key was likely meant to be (`allowed_users`, `AllowedUser`, `teams`). */
export function likelyAccessKey(key: string): (typeof ACCESS_KEYS)[number] | undefined {
  const k = key.toLowerCase().replace(/[^a-z]/g, '');
  for (const name of ACCESS_KEYS) {
    const target = name.toLowerCase();
    if (editDistance(k, target) <= 2 || k === target.slice('allowed'.length)) return name;
  }
  return undefined;
}

/** The reply that refuses a trigger while the access list is broken. */
export function renderAccessRefusal(input: {
  login: string;
  problems: readonly string[];
  path: string;
  ref: string;
}): string {
  return [
    `@${input.login} Forge cannot tell who may ask it here, so it does nothing until \`${input.path}\` on \`${input.ref}\` is fixed:`,
    '',
    ...input.problems.map((p) => `- ${p}`),
    '',
    `Fix the file on \`${input.ref}\` — for example \`allowedUsers: [alice, bob]\` or \`allowedTeams: [my-org/reviewers]\` — or remove the key to let everyone with write access ask. Forge refuses rather than guess, so a broken list never lets in someone it was meant to keep out.`,
  ].join('\n');
}
