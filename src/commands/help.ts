/** The help text: `/forge help`, `/forge` alone, and after an unknown command word or option. */

/** Heads the help reply (and nothing else Forge posts). */
export const HELP_HEADING = '### Forge commands';

export interface HelpOptions {
  allowedAgents: readonly string[];
  triggerLabel: string;
  /** The host's words (default: GitHub's). */
  words?: { changeRequest: string; writeAccess: string };
}

/** Markdown reply to `/forge help`. */
export function renderHelp(opts: HelpOptions): string {
  const words = opts.words ?? {
    changeRequest: 'pull request',
    writeAccess: 'write access to this repository',
  };
  const agents = opts.allowedAgents.length
    ? opts.allowedAgents.map((a) => `\`${a}\``).join(', ')
    : '_none enabled — ask the operator_';
  return [
    HELP_HEADING,
    '',
    'Start a comment with `/forge` (on its first line):',
    '',
    '| Comment | What it does |',
    '| --- | --- |',
    `| \`/forge <instruction>\` | Runs an agent on the instruction and opens or updates a ${words.changeRequest}. The instruction may continue on the following lines. |`,
    '| `/forge help` | Shows this help. |',
    '| `/forge status` | Shows what Forge is doing here. |',
    '| `/forge stop` | Stops the running task. |',
    '| `/forge plan <instruction>` | The agent proposes a plan and asks its questions without changing any file; the plan is posted here. |',
    '| `/forge approve [changes]` | Runs the pending plan, with your changes to it if you add any. |',
    '| `/forge continue` | Continues the last turn that was stopped, timed out or failed, from the work it left on the branch. |',
    `| \`/forge address-reviews [notes]\` | On a ${words.changeRequest}: one turn handles every unresolved review thread, then Forge answers in each thread with what changed and the commit. |`,
    '',
    '**Options** (before the instruction, on the `/forge` line):',
    '',
    `- \`--agent <name>\` — which agent runs the instruction. Allowed: ${agents}.`,
    '- `--model <name>` — which model the agent uses, e.g. `--model provider/model-name`.',
    '- `--` — ends the options, for an instruction that starts with `--` or with a command word.',
    '- `/forge plan` and `/forge address-reviews` take the same options after their word; an approved plan runs with them.',
    '',
    `You can also add the \`${opts.triggerLabel.replace(/`/g, '')}\` label to an issue: Forge then works on the issue's title and description.`,
    '',
    `Only people with ${words.writeAccess} can run Forge.`,
  ].join('\n');
}
