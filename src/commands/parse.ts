import { nearestCommand } from './near-miss.js';
import type { ForgeCommand, RunOptions } from './types.js';

export { HELP_HEADING, type HelpOptions, renderHelp } from './help.js';

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
 *
 * `/forge` alone asks for help. A lone word (with nothing but options around it) that is nearly a
 * command word — `/forge stauts`, `/forge stat` — is answered with the command it likely meant and
 * the help, never run as an instruction; `/forge -- <word>` runs it anyway.
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
  const { instruction, options, sawOptions, sawEnd } = run;
  if (instruction === '') {
    if (!sawOptions && !sawEnd) return { kind: 'help' };
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
  if (!sawEnd) {
    const miss = nearMiss(instruction);
    if (miss) return miss;
  }
  return { kind: 'run', instruction, options };
}

/**
 * `/forge stauts` (a lone word, perhaps with options after it) that is nearly a command: the reply
 * names the command it likely meant. Real instructions — more words, or a word far from every
 * command (`/forge refactor`) — are not near-misses.
 */
function nearMiss(instruction: string): ForgeCommand | undefined {
  // A word and a few options fit in far less; longer text is an instruction.
  if (instruction.length > 200) return undefined;
  const [first = '', ...rest] = instruction.split(/\s+/);
  if (!onlyOptions(rest)) return undefined;
  const word = first.replace(/[.,:;!?]+$/, '');
  const command = nearestCommand(word);
  if (command === undefined) return undefined;
  if (command === word.toLowerCase()) {
    // The command itself, with options where it takes none or in front of it.
    return command === 'plan' || command === 'address-reviews'
      ? invalid(
          `Options go after the command word: \`/forge ${command} --agent <name> …\`, not around it alone.`,
          true,
        )
      : invalid(`\`/forge ${command}\` takes no options — comment just \`/forge ${command}\`.`, true);
  }
  return invalid(
    `${code(word)} is not a Forge command — did you mean \`/forge ${command}\`? To give it to the agent as an instruction after all, put \`--\` before it: \`/forge -- <instruction>\`.`,
    true,
  );
}

/** Whether every token is an option (`--x`, `--x=y`, `-x`) or the value of a known one before it. */
function onlyOptions(tokens: readonly string[]): boolean {
  const isOption = (t: string) => /^[-\u2013\u2014]/.test(t);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '') continue;
    if (!isOption(token)) return false;
    const option = asOption(token);
    const next = tokens[i + 1];
    if (option?.name && option.value === undefined && next !== undefined && !isOption(next)) i++;
  }
  return true;
}

interface ParsedRun {
  instruction: string;
  options: RunOptions;
  sawOptions: boolean;
  /** `--` ended the options: what follows is an instruction whatever it looks like. */
  sawEnd: boolean;
}

/** Leading options from `pos` on the first line, then the instruction (the rest, trimmed). */
function parseRun(rest: string, start: number, opts: ParseOptions): ParsedRun | ForgeCommand {
  const options: RunOptions = {};
  let pos = start;
  let sawOptions = false;
  let sawEnd = false;
  for (;;) {
    pos = skipInlineSpace(rest, pos);
    const token = readToken(rest, pos);
    if (token === undefined) break; // end of the first line: the instruction starts below
    if (token === '--') {
      pos += token.length;
      sawEnd = true;
      break;
    }
    const option = asOption(token);
    if (option === undefined) break; // first plain word: the instruction starts here
    sawOptions = true;
    pos += token.length;

    if (option.name === undefined) return invalid(unknownOptionReply(option.raw, opts.allowedAgents), true);
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
  return { instruction: rest.slice(pos).trim(), options, sawOptions, sawEnd };
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
  const flags = after.length <= 200 ? after.trim().split(/\s+/) : [];
  if (flags.length && onlyOptions(flags)) {
    return invalid(
      `\`/forge ${word}\` takes no options (${code(flags[0]!)}) — comment just \`/forge ${word}\`.`,
      true,
    );
  }
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

/** `help`: the reply is followed by the help text (the comment named no command or option Forge knows). */
function invalid(reply: string, help = false): ForgeCommand {
  return help ? { kind: 'invalid', reply, help: true } : { kind: 'invalid', reply };
}
