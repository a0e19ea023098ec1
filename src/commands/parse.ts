import type { ForgeCommand, RunOptions } from './types.js';

/**
 * Parses a comment body into a ForgeCommand. Pure, total (never throws) and linear in the body
 * length: it runs on every comment a repository receives, including hostile ones.
 *
 * Grammar (only the first line — the one carrying `/forge` — can hold commands and options):
 *   /forge help | status | stop | continue
 *   /forge plan [--agent <name>] [--model <name>] [--] <instruction>
 *   /forge approve [changes to the plan, may continue on later lines]
 *   /forge address-reviews [--agent <name>] [--model <name>] [--] [notes for the agent]
 *   /forge [--agent <name>] [--model <name>] [--] <instruction, may continue on later lines>
 */

export interface ParseOptions {
  allowedAgents: readonly string[];
}

/** `/forge` must open the body and stand alone as a word: `/forgeX` and `/forge:` are someone else's. */
const PREFIX = /^\s*\/forge(?=\s|$)/i;
/** Tolerates the punctuation people add when they talk to a bot: `/forge stop!`. */
const COMMAND_WORD = /^(help|status|stop|continue)[.!?]*$/i;
/** `/forge plan <instruction>` and `/forge approve [edits]`: command words that take text. */
const PLAN_WORD = /^plan[:.!?]*$/i;
const APPROVE_WORD = /^(approve)[:,.!?]*$/i;
/** `/forge address-reviews`: every unresolved review thread in one turn. */
const ADDRESS_WORD = /^address-reviews?[:,.!?]*$/i;
const MODEL_NAME = /^[A-Za-z0-9._:/@-]{1,100}$/;
/** Whitespace except line breaks: options never continue onto the next line. */
const INLINE_SPACE = /[^\S\n]*/y;
const TOKEN = /[^\s]+/y;

type OptionName = keyof RunOptions;
const OPTION_NAMES: readonly OptionName[] = ['agent', 'model'];

export function parseCommand(body: string, opts: ParseOptions): ForgeCommand | null {
  if (typeof body !== 'string') return null;
  const prefix = PREFIX.exec(body);
  if (!prefix) return null;
  // Normalise line endings after the cheap check, so non-Forge comments cost nothing.
  const rest = body.slice(prefix[0].length).replace(/\r\n?/g, '\n');

  // Command words count only as the first word on the `/forge` line.
  const firstPos = skipInlineSpace(rest, 0);
  const first = readToken(rest, firstPos);
  if (first !== undefined) {
    const afterFirst = firstPos + first.length;
    if (COMMAND_WORD.test(first)) return commandOrInvalid(first, rest.slice(afterFirst));
    if (APPROVE_WORD.test(first)) {
      const edits = rest.slice(afterFirst).trim();
      return edits === '' ? { kind: 'approve' } : { kind: 'approve', edits };
    }
    if (ADDRESS_WORD.test(first)) {
      const address = parseRun(rest, afterFirst, opts);
      if ('kind' in address) return address;
      return address.instruction === ''
        ? { kind: 'address_reviews', options: address.options }
        : { kind: 'address_reviews', instruction: address.instruction, options: address.options };
    }
    if (PLAN_WORD.test(first)) {
      const plan = parseRun(rest, afterFirst, opts);
      if ('kind' in plan) return plan;
      if (plan.instruction === '') {
        return invalid(
          '`/forge plan` needs an instruction to plan, e.g. `/forge plan move the cache to Redis`: the agent then proposes a plan and questions without changing anything, and `/forge approve` runs it.',
        );
      }
      return { kind: 'plan', instruction: plan.instruction, options: plan.options };
    }
  }

  const run = parseRun(rest, 0, opts);
  if ('kind' in run) return run;
  const { instruction, options, sawOptions } = run;
  if (instruction === '') {
    return invalid(
      sawOptions
        ? 'Options alone do nothing: add an instruction after them, e.g. `/forge --model <name> fix the failing test`. Comment `/forge help` for the commands and options.'
        : 'Tell Forge what to do after `/forge`, e.g. `/forge add tests for the parser`. Comment `/forge help` for the commands and options.',
    );
  }
  // `/forge --agent x stop` is almost certainly a mistyped command, not an instruction to act on.
  if (sawOptions && ADDRESS_WORD.test(instruction.split(/\s/, 1)[0] ?? '')) {
    return invalid(
      'Options go after the command word: `/forge address-reviews --agent <name>`, not before it.',
    );
  }
  if (sawOptions && (COMMAND_WORD.test(instruction) || APPROVE_WORD.test(instruction))) {
    const word =
      (COMMAND_WORD.exec(instruction) ?? APPROVE_WORD.exec(instruction))?.[1]?.toLowerCase() ?? 'help';
    return invalid(`\`/forge ${word}\` takes no options — comment just \`/forge ${word}\`.`);
  }
  return { kind: 'run', instruction, options };
}

interface ParsedRun {
  instruction: string;
  options: RunOptions;
  sawOptions: boolean;
}

/** Leading options from `pos` on the first line, then the instruction (the rest, trimmed). */
function parseRun(rest: string, start: number, opts: ParseOptions): ParsedRun | ForgeCommand {
  const options: RunOptions = {};
  let pos = start;
  let sawOptions = false;
  for (;;) {
    pos = skipInlineSpace(rest, pos);
    const token = readToken(rest, pos);
    if (token === undefined) break; // end of the first line: the instruction starts below
    if (token === '--') {
      pos += token.length;
      break;
    }
    const option = asOption(token);
    if (option === undefined) break; // first plain word: the instruction starts here
    sawOptions = true;
    pos += token.length;

    if (option.name === undefined) return invalid(unknownOptionReply(option.raw, opts.allowedAgents));
    let value = option.value;
    if (value === undefined) {
      // `--agent name`: the value is the next word on the same line.
      const valuePos = skipInlineSpace(rest, pos);
      const next = readToken(rest, valuePos);
      if (next !== undefined && asOption(next) === undefined && next !== '--') {
        value = next;
        pos = valuePos + next.length;
      }
    }
    if (value === undefined || value === '')
      return invalid(missingValueReply(option.name, opts.allowedAgents));
    if (options[option.name] !== undefined) {
      return invalid(`\`--${option.name}\` is given twice; give it once, before the instruction.`);
    }
    const checked = checkValue(option.name, value, opts.allowedAgents);
    if (checked.error !== undefined) return invalid(checked.error);
    options[option.name] = checked.value;
  }
  return { instruction: rest.slice(pos).trim(), options, sawOptions };
}

function skipInlineSpace(text: string, pos: number): number {
  INLINE_SPACE.lastIndex = pos;
  INLINE_SPACE.exec(text);
  return INLINE_SPACE.lastIndex;
}

function readToken(text: string, pos: number): string | undefined {
  TOKEN.lastIndex = pos;
  return TOKEN.exec(text)?.[0];
}

interface OptionToken {
  raw: string;
  name: OptionName | undefined;
  value: string | undefined;
}

/**
 * `--name`, `--name=value`. Phones turn `--` into an en or em dash, so `—agent` counts too — but
 * only for a known name, since prose may well start with a dash ("— also fix the docs").
 */
function asOption(token: string): OptionToken | undefined {
  const match = /^(--|\u2014|\u2013-?)([^=]*)(?:=(.*))?$/s.exec(token);
  if (!match || token === '--') return undefined;
  const rawName = (match[2] ?? '').toLowerCase();
  const name = OPTION_NAMES.find((n) => n === rawName);
  if (match[1] !== '--' && name === undefined) return undefined;
  return { raw: token, name, value: match[3] };
}

function checkValue(
  name: OptionName,
  value: string,
  allowedAgents: readonly string[],
): { value: string; error?: undefined } | { error: string } {
  if (name === 'agent') {
    const wanted = value.toLowerCase();
    const agent = allowedAgents.find((a) => a.toLowerCase() === wanted);
    if (agent === undefined)
      return { error: `Unknown agent ${code(value)}. ${agentsSentence(allowedAgents)}` };
    return { value: agent };
  }
  if (!MODEL_NAME.test(value)) {
    return {
      error: `${code(value)} is not a valid model name: use up to 100 letters, digits and \`. _ : / @ -\`, e.g. \`--model provider/model-name\`.`,
    };
  }
  return { value };
}

function commandOrInvalid(token: string, after: string): ForgeCommand {
  const word = (COMMAND_WORD.exec(token)?.[1] ?? 'help').toLowerCase() as
    | 'help'
    | 'status'
    | 'stop'
    | 'continue';
  if (after.trim() === '') return { kind: word };
  const what: Record<typeof word, string> = {
    help: 'to see the commands',
    status: 'to see what Forge is doing here',
    stop: 'to stop the running task',
    continue: 'to pick up the last stopped or failed turn',
  };
  return invalid(
    `\`/forge ${word}\` takes no text — ${what[word]}, comment just \`/forge ${word}\`; to give an instruction, don't start it with "${word}" (or write \`/forge -- ${word} …\`).`,
  );
}

function unknownOptionReply(raw: string, allowedAgents: readonly string[]): string {
  return `Unknown option ${code(raw)}. Forge knows ${OPTIONS_SENTENCE}. ${agentsSentence(allowedAgents)} Options go before the instruction; to start an instruction with \`--\`, put \`--\` first: \`/forge -- --flag should …\`.`;
}

function missingValueReply(name: OptionName, allowedAgents: readonly string[]): string {
  const example = name === 'agent' ? (allowedAgents[0] ?? 'name') : 'provider/model-name';
  const extra = name === 'agent' ? ` ${agentsSentence(allowedAgents)}` : '';
  return `\`--${name}\` needs a value on the same line, e.g. \`/forge --${name} ${example} <instruction>\` or \`--${name}=${example}\`.${extra}`;
}

const OPTIONS_SENTENCE = '`--agent <name>` and `--model <name>` (also written `--agent=<name>`)';

function agentsSentence(allowedAgents: readonly string[]): string {
  if (allowedAgents.length === 0) return 'No agents are enabled on this Forge; ask its operator.';
  return `Allowed agents: ${allowedAgents.map((a) => `\`${a}\``).join(', ')}.`;
}

/**
 * Echoes user input inside a code span, cut short and without backticks or line breaks, so a reply
 * can't be turned into markdown, mentions or a wall of text.
 */
function code(value: string): string {
  const clean = value.replace(/[`\s]+/g, ' ').trim();
  const chars = Array.from(clean);
  const short = chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : clean;
  return `\`${short || ' '}\``;
}

function invalid(reply: string): ForgeCommand {
  return { kind: 'invalid', reply };
}

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
    '### Forge commands',
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
