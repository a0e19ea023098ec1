import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authorize } from '../commands/authorize.js';
import { GITHUB_WORDS } from '../forge/github/forge.js';
import { branchName } from '../git/branch-name.js';
import { renderAccessRefusal } from './repo-access.js';
import {
  isAllowedUser,
  loadRepoSettings,
  parseRepoSettings,
  renderSettingsProblems,
} from './repo-settings.js';

const op = {
  allowedAgents: ['command', 'claude'],
  triggerLabel: 'forge',
  repoTriggerLabels: ['ai'],
  turnTimeout: 60 * 60_000,
  idleTimeout: 15 * 60_000,
  maxAgentSteps: 200,
  maxTaskCostUsd: 25,
  maxTaskTokens: 5_000_000,
  maxRepoDailyCostUsd: 100,
};

const GH = '.github/forge.yml';

describe('parseRepoSettings', () => {
  test('reads every key', () => {
    const { settings, problems } = parseRepoSettings(
      [
        'triggerLabel: AI',
        'agent: Claude',
        'model: provider/model-1',
        'pullRequests: draft',
        'branchPrefix: ai/',
        'allowedUsers: [alice, Maya]',
        'setup:',
        '  - npm ci',
        '  - echo ok > x',
        'testCommand: npm test',
        'instructions: |',
        '  Use tabs.',
        'limits:',
        '  turnTimeout: 20m',
      ].join('\n'),
      op,
      GH,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, {
      triggerLabel: 'AI',
      agent: 'claude',
      model: 'provider/model-1',
      pullRequests: 'draft',
      branchPrefix: 'ai/',
      allowedUsers: ['alice', 'Maya'],
      setup: ['npm ci', 'echo ok > x'],
      testCommand: 'npm test',
      instructions: 'Use tabs.',
      limits: { turnTimeoutMs: 20 * 60_000 },
    });
  });

  test('an empty file, comments only, or a single setup string', () => {
    assert.deepEqual(parseRepoSettings('', op, GH), { settings: {}, problems: [] });
    assert.deepEqual(parseRepoSettings('# nothing\n', op, GH), { settings: {}, problems: [] });
    assert.deepEqual(parseRepoSettings('setup: make deps\nallowedUsers: alice\n', op, GH).settings, {
      setup: ['make deps'],
      allowedUsers: ['alice'],
    });
  });

  test('limits.turnTimeout above the operator maximum is refused by name, like every other limit', () => {
    const { settings, problems } = parseRepoSettings('limits:\n  turnTimeout: 7d\n', op, GH);
    assert.equal(settings.limits, undefined, "the operator's limit applies");
    assert.equal(problems.length, 1);
    assert.match(
      problems[0]!,
      /`limits\.turnTimeout`: 168h is above this Forge's bound of 1h \(FORGE_TURN_TIMEOUT\); these settings may only lower it, so the bound applies\./,
    );
    assert.deepEqual(parseRepoSettings('limits:\n  turnTimeout: 1h\n', op, GH).settings.limits, {
      turnTimeoutMs: op.turnTimeout,
    });
  });

  test('limits.maxTaskTokens and maxRepoDailyCostUsd within the operator bounds; above them refused', () => {
    const ok = parseRepoSettings('limits: { maxTaskTokens: 2M, maxRepoDailyCostUsd: 12.5 }', op, GH);
    assert.deepEqual(ok.problems, []);
    assert.deepEqual(ok.settings.limits, { maxTaskTokens: 2_000_000, maxRepoDailyCostUsd: 12.5 });
    assert.deepEqual(parseRepoSettings('limits: { maxTaskTokens: 500k }', op, GH).settings.limits, {
      maxTaskTokens: 500_000,
    });
    assert.deepEqual(parseRepoSettings('limits: { maxTaskTokens: 750000 }', op, GH).settings.limits, {
      maxTaskTokens: 750_000,
    });
    const above = parseRepoSettings(
      'limits: { maxTaskTokens: 6000000, maxRepoDailyCostUsd: "$101" }',
      op,
      GH,
    );
    assert.equal(above.settings.limits, undefined);
    assert.match(
      above.problems[0]!,
      /`limits\.maxTaskTokens`: 6,000,000 tokens is above this Forge's bound of 5,000,000 tokens \(FORGE_MAX_TASK_TOKENS\)/,
    );
    assert.match(
      above.problems[1]!,
      /`limits\.maxRepoDailyCostUsd`: \$101 is above this Forge's bound of \$100 \(FORGE_MAX_REPO_DAILY_COST_USD\)/,
    );
    const bad = parseRepoSettings('limits: { maxTaskTokens: lots, maxRepoDailyCostUsd: free }', op, GH);
    assert.match(bad.problems[0]!, /`limits\.maxTaskTokens`: expected a whole number of tokens/);
    assert.match(bad.problems[1]!, /`limits\.maxRepoDailyCostUsd`: expected an amount in US dollars/);
  });

  test('limits.idleTimeout, maxAgentSteps and maxTaskCostUsd within the operator bounds', () => {
    const { settings, problems } = parseRepoSettings(
      'limits:\n  idleTimeout: 5m\n  maxAgentSteps: 50\n  maxTaskCostUsd: 2.5\n',
      op,
      GH,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.limits, { idleTimeoutMs: 5 * 60_000, maxAgentSteps: 50, maxTaskCostUsd: 2.5 });
    assert.deepEqual(
      parseRepoSettings('limits: { maxTaskCostUsd: "$25", idleTimeout: 900 }', op, GH).settings,
      {
        limits: { maxTaskCostUsd: 25, idleTimeoutMs: 15 * 60_000 },
      },
    );
  });

  test('a limit above the operator bound is refused with a problem naming the key and the bound', () => {
    const { settings, problems } = parseRepoSettings(
      'limits:\n  idleTimeout: 2h\n  maxAgentSteps: 201\n  maxTaskCostUsd: 100\n  turnTimeout: 10m\n',
      op,
      GH,
    );
    assert.deepEqual(settings.limits, { turnTimeoutMs: 10 * 60_000 }, 'the valid limit still applies');
    assert.equal(problems.length, 3);
    assert.match(
      problems[0]!,
      /`limits\.idleTimeout`: 2h is above this Forge's bound of 15m \(FORGE_IDLE_TIMEOUT\)/,
    );
    assert.match(
      problems[1]!,
      /`limits\.maxAgentSteps`: 201 steps is above this Forge's bound of 200 steps \(FORGE_MAX_AGENT_STEPS\)/,
    );
    assert.match(
      problems[2]!,
      /`limits\.maxTaskCostUsd`: \$100 is above this Forge's bound of \$25 \(FORGE_MAX_TASK_COST_USD\)/,
    );
    assert.ok(problems.every((p) => p.startsWith('`.github/forge.yml`')));
  });

  test('bad limit values, and limits whose operator bound is unknown, are refused', () => {
    const { settings, problems } = parseRepoSettings(
      'limits: { maxAgentSteps: 2.5, maxTaskCostUsd: lots, idleTimeout: 0 }',
      op,
      GH,
    );
    assert.deepEqual(settings, {});
    const all = problems.join('\n');
    assert.match(all, /`limits\.maxAgentSteps`: expected a whole number of agent steps/);
    assert.match(all, /`limits\.maxTaskCostUsd`: expected an amount in US dollars/);
    assert.match(all, /`limits\.idleTimeout`: expected a duration/);
    const unbounded = parseRepoSettings(
      'limits: { maxAgentSteps: 5 }',
      {
        allowedAgents: ['command'],
        triggerLabel: 'forge',
        turnTimeout: 60_000,
      },
      GH,
    );
    assert.deepEqual(unbounded.settings, {});
    assert.match(unbounded.problems[0]!, /`limits\.maxAgentSteps` cannot be set on this Forge/);
    assert.match(
      parseRepoSettings('limits: { steps: 5 }', op, GH).problems[0]!,
      /unknown key `limits\.steps` \(known: `limits\.turnTimeout`, `limits\.idleTimeout`, `limits\.maxAgentSteps`, `limits\.maxTaskCostUsd`, `limits\.maxTaskTokens`, `limits\.maxRepoDailyCostUsd`\)/,
    );
  });

  test('invalid YAML: one problem naming the file, and defaults', () => {
    const { settings, problems } = parseRepoSettings('pullRequests: [draft\n', op, GH);
    assert.deepEqual(settings, {});
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /`\.github\/forge\.yml` is not valid YAML/);
    const scalar = parseRepoSettings('just text', op, GH);
    assert.match(scalar.problems[0]!, /must be a YAML mapping/);
  });

  test('drops only the bad keys, naming key and expected form', () => {
    const { settings, problems } = parseRepoSettings(
      [
        'pullRequests: yes',
        'agent: evil',
        'model: "rm -rf /"',
        'branchPrefix: "../x"',
        'allowedUsers: ["al ice"]',
        'triggerLabel: deploy',
        'colour: blue',
        'limits: { turnTimeout: soon, memory: 2g }',
        'testCommand: npm test',
      ].join('\n'),
      op,
      GH,
    );
    assert.deepEqual(settings, { testCommand: 'npm test' });
    const all = problems.join('\n');
    assert.match(all, /`pullRequests`: expected `draft` or `ready` \(got "yes"\)/);
    assert.match(all, /`agent`: expected one of the agents this Forge allows: `command`, `claude`/);
    assert.match(all, /`model`: expected a model name/);
    assert.match(all, /`branchPrefix`: expected a valid git branch name prefix/);
    assert.match(
      all,
      /`allowedUsers`: expected user names \(letters, digits, `-`, `_` and `\.`\), not "al ice"/,
    );
    assert.match(all, /`triggerLabel`: expected one of the labels .*`forge`, `ai`/);
    assert.match(all, /unknown key `colour`/);
    assert.match(all, /`limits.turnTimeout`: expected a duration/);
    assert.match(all, /unknown key `limits.memory`/);
    assert.equal(problems.length, 9);
    assert.ok(problems.every((p) => p.startsWith('`.github/forge.yml`')));
  });

  test('allowedTeams: GitHub teams as org/team-slug, GitLab group paths; a leading @ is fine', () => {
    const github = parseRepoSettings(
      'allowedUsers: ["@Maya"]\nallowedTeams: ["@acme/Reviewers", acme/core-team]\n',
      { ...op, teams: 'github' },
      GH,
    );
    assert.deepEqual(github.problems, []);
    assert.deepEqual(github.settings, {
      allowedUsers: ['Maya'],
      allowedTeams: ['acme/reviewers', 'acme/core-team'],
    });
    for (const bad of ['acme', 'acme/platform/team', 'acme/re viewers']) {
      const parsed = parseRepoSettings(`allowedTeams: ["${bad}"]\n`, { ...op, teams: 'github' }, GH);
      assert.match(parsed.problems[0] ?? '', /`allowedTeams`: expected teams as `org\/team-slug`/, bad);
      assert.deepEqual(parsed.accessProblems, parsed.problems, `${bad}: fails closed`);
    }
    const gitlab = parseRepoSettings(
      'allowedTeams: [acme, acme/platform/Team_1]\n',
      { ...op, teams: 'gitlab' },
      '.gitlab/forge.yml',
    );
    assert.deepEqual(gitlab.settings, { allowedTeams: ['acme', 'acme/platform/Team_1'] });
  });

  test('renderSettingsProblems lists the problems and says the turn runs', () => {
    const body = renderSettingsProblems(['`.github/forge.yml`: unknown key `x`.'], 'main', GH);
    assert.match(body, /read from `main`/);
    assert.match(body, /- `\.github\/forge\.yml`: unknown key `x`\./);
    assert.match(body, /The turn runs anyway/);
  });
});

describe('a broken access list fails closed', () => {
  const access = (source: string) => parseRepoSettings(source, op, GH).accessProblems;

  test('invalid YAML or a file that is no mapping, when it mentions an access list', () => {
    const yaml = access('allowedUsers: [maya\npullRequests: draft\n');
    assert.equal(yaml?.length, 1);
    assert.match(
      yaml![0]!,
      /^`\.github\/forge\.yml` is not valid YAML \(.+\), and it mentions `allowedUsers` or `allowedTeams`: Forge cannot tell who may ask it\.$/,
    );
    assert.equal(access('- allowed_teams: [acme/x]\n')?.length, 1, 'a list, not a mapping');
    assert.equal(access('allowedUsers: [a]\nallowedUsers: [b]\n')?.length, 1, 'a duplicate key');
    // Without an access list the file only loses its settings: defaults are safe.
    assert.equal(access('pullRequests: [draft\n'), undefined);
    assert.equal(access('just text'), undefined);
  });

  test('an access-list key that is present but invalid', () => {
    for (const source of [
      'allowedUsers: []',
      'allowedUsers:',
      'allowedUsers: { maya: true }',
      'allowedUsers: ["al ice", maya]',
      'allowedTeams: []',
      'allowedTeams: [42]',
    ]) {
      const parsed = parseRepoSettings(source, op, GH);
      assert.equal(parsed.accessProblems?.length, 1, source);
      assert.equal(parsed.settings.allowedUsers ?? parsed.settings.allowedTeams, undefined, source);
    }
    assert.match(access('allowedUsers: []')![0]!, /an empty list would let nobody ask; .*remove the key/);
    assert.match(
      access('allowedUsers: [maya, "@acme/reviewers"]')![0]!,
      /`acme\/reviewers` is a team, not a login: list it under `allowedTeams`/,
    );
  });

  test('an unknown key that looks like an access list', () => {
    for (const [key, meant] of [
      ['allowed_users', 'allowedUsers'],
      ['AllowedUser', 'allowedUsers'],
      ['allowUsers', 'allowedUsers'],
      ['users', 'allowedUsers'],
      ['allowed-teams', 'allowedTeams'],
      ['teams', 'allowedTeams'],
    ]) {
      const problems = access(`${key}: [maya]\n`);
      assert.equal(problems?.length, 1, key);
      assert.match(problems![0]!, new RegExp(`unknown key \`${key}\` — did you mean \`${meant}\`\\?`), key);
    }
  });

  test('other problems do not touch who may ask', () => {
    const parsed = parseRepoSettings('agent: evil\ncolour: blue\nallowedUsers: [maya]\n', op, GH);
    assert.equal(parsed.problems.length, 2);
    assert.equal(parsed.accessProblems, undefined);
    assert.deepEqual(parsed.settings, { allowedUsers: ['maya'] });
  });

  test('the refusal names the problems, the file on the default branch, and how to fix it', () => {
    const reply = renderAccessRefusal({
      login: 'maya',
      problems: ['`.github/forge.yml`: `allowedUsers`: expected a non-empty list of logins.'],
      path: GH,
      ref: 'main',
    });
    assert.match(
      reply,
      /^@maya Forge cannot tell who may ask it here, so it does nothing until `\.github\/forge\.yml` on `main` is fixed:/,
    );
    assert.match(
      reply,
      /\n- `\.github\/forge\.yml`: `allowedUsers`: expected a non-empty list of logins\.\n/,
    );
    assert.match(
      reply,
      /`allowedUsers: \[alice, bob\]`.*remove the key to let everyone with write access ask/,
    );
  });
});

describe('loadRepoSettings', () => {
  test('reads the file at the ref it is given; no file is no settings', async () => {
    const asked: string[] = [];
    const forge = {
      words: GITHUB_WORDS,
      async readFile(path: string, ref: string) {
        asked.push(`${ref}:${path}`);
        return ref === 'main' ? 'pullRequests: ready\n' : undefined;
      },
    };
    assert.deepEqual(await loadRepoSettings(forge, 'main', op), {
      settings: { pullRequests: 'ready' },
      problems: [],
    });
    assert.deepEqual(await loadRepoSettings(forge, 'dev', op), { settings: {}, problems: [] });
    assert.deepEqual(asked, ['main:.github/forge.yml', 'dev:.github/forge.yml']);
  });

  test("reads the forge's own settings path (GitLab: .gitlab/forge.yml) and names it in problems", async () => {
    const asked: string[] = [];
    const forge = {
      words: { ...GITHUB_WORDS, settingsPath: '.gitlab/forge.yml' },
      async readFile(path: string, ref: string) {
        asked.push(`${ref}:${path}`);
        return 'colour: blue\nallowedUsers: [jane.doe, ops_bot-2]\n';
      },
    };
    const { settings, problems } = await loadRepoSettings(forge, 'main', op);
    assert.deepEqual(asked, ['main:.gitlab/forge.yml']);
    assert.deepEqual(
      settings,
      { allowedUsers: ['jane.doe', 'ops_bot-2'] },
      'GitLab usernames (with `.` and `_`) are accepted',
    );
    assert.deepEqual(problems.length, 1);
    assert.ok(problems[0]!.startsWith('`.gitlab/forge.yml`: unknown key `colour`'), problems[0]);
  });

  test('a failed read throws (allowedUsers is never skipped silently)', async () => {
    const forge = {
      words: GITHUB_WORDS,
      async readFile(): Promise<string | undefined> {
        throw Object.assign(new Error('boom'), { status: 500 });
      },
    };
    await assert.rejects(loadRepoSettings(forge, 'main', op), /boom/);
  });
});

describe('allowedUsers and allowedTeams narrow, never widen', () => {
  const actor = (login: string) => ({ login, id: 1, isBot: false });
  test('a member of an allowed team is allowed; a writer in no listed team is refused, naming the teams', () => {
    const allowedTeams = ['acme/reviewers'];
    assert.equal(
      authorize({
        actor: actor('kim'),
        permission: 'write',
        botLogins: [],
        allowedTeams,
        memberOf: 'acme/reviewers',
      }).decision,
      'allow',
    );
    const refused = authorize({ actor: actor('kim'), permission: 'write', botLogins: [], allowedTeams });
    assert.equal(refused.decision, 'refuse');
    assert.match(
      refused.decision === 'refuse' ? refused.reply : '',
      /^@kim .* limits who may ask Forge, and you are not a member of `acme\/reviewers` \(`allowedTeams`\)\.$/,
    );
    const both = authorize({
      actor: actor('kim'),
      permission: 'write',
      botLogins: [],
      allowedUsers: ['maya'],
      allowedTeams,
    });
    assert.match(both.decision === 'refuse' ? both.reply : '', /not on `allowedUsers` nor a member of/);
    assert.equal(
      authorize({
        actor: actor('maya'),
        permission: 'write',
        botLogins: [],
        allowedUsers: ['maya'],
        allowedTeams,
      }).decision,
      'allow',
      'either list lets one in',
    );
    assert.equal(
      authorize({
        actor: actor('kim'),
        permission: 'read',
        botLogins: [],
        allowedTeams,
        memberOf: 'acme/reviewers',
      }).decision,
      'refuse',
      'a team member without write access is still refused',
    );
  });

  test('a listed writer is allowed, an unlisted writer refused, a listed reader still refused', () => {
    const allowedUsers = ['Alice'];
    assert.equal(
      authorize({ actor: actor('alice'), permission: 'write', botLogins: [], allowedUsers }).decision,
      'allow',
    );
    const refused = authorize({ actor: actor('maya'), permission: 'admin', botLogins: [], allowedUsers });
    assert.equal(refused.decision, 'refuse');
    assert.match(refused.decision === 'refuse' ? refused.reply : '', /allowedUsers/);
    assert.equal(
      authorize({ actor: actor('alice'), permission: 'read', botLogins: [], allowedUsers }).decision,
      'refuse',
    );
    assert.equal(isAllowedUser({}, 'anyone'), true);
    assert.equal(isAllowedUser({ allowedUsers: ['a'] }, 'b'), false);
  });
});

describe('branchName with a prefix', () => {
  test('uses the prefix, and rejects one that makes an invalid name', async () => {
    assert.equal(await branchName(7, 'Fix it', async () => false, 'ai-'), 'ai-7-fix-it');
    assert.equal(await branchName(7, 'Fix it', async () => false), 'forge/7-fix-it');
    await assert.rejects(
      branchName(7, 'Fix it', async () => false, 'a..b/'),
      /invalid branch name prefix/,
    );
  });
});
