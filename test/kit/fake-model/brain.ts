/**
 * The default Brain: the user's instruction scripts the model. Directives, anywhere in the text of
 * the latest user message that has any:
 *
 *   [[write:PATH:CONTENT]]   call the CLI's own file-writing tool (PATH relative to the checkout)
 *   [[shell:COMMAND]]        call the CLI's own shell tool
 *   [[say:TEXT]]             the final answer (default: "Done: …" listing what was done)
 *
 * Actions run one per request, in order; once all ran (counted by the assistant tool calls after
 * that user message), the model answers with text. Requests that offer no tools (title or topic
 * side requests some CLIs make) get a short text answer.
 *
 * Tool names and argument shapes differ per CLI; WRITE_TOOLS and SHELL_TOOLS map each CLI's tool
 * name to its arguments. `cwd` is the checkout as the CLI sees it (from its system prompt). Two CLIs
 * can offer a tool of the same name with different arguments (Codex's and OpenCode's `apply_patch`):
 * a key `PROTOCOL:NAME` (e.g. `openai-chat:apply_patch`) applies to that protocol only and wins over
 * a plain `NAME`.
 */
import type { Brain, Exchange, Message, Reply } from './types.js';

export type Action = { kind: 'write'; path: string; content: string } | { kind: 'shell'; command: string };

type ArgsOf<A> = (action: A, exchange: Exchange) => Record<string, unknown>;

/** Tool name → arguments for writing a file, per CLI. */
export const WRITE_TOOLS: Record<string, ArgsOf<Extract<Action, { kind: 'write' }>>> = {};
/** Tool name → arguments for running a shell command, per CLI. */
export const SHELL_TOOLS: Record<string, ArgsOf<Extract<Action, { kind: 'shell' }>>> = {};

const DIRECTIVE = /\[\[(write|shell|say):([\s\S]*?)\]\]/g;

export function directivesOf(text: string): { actions: Action[]; say?: string } {
  const actions: Action[] = [];
  let say: string | undefined;
  for (const m of text.matchAll(DIRECTIVE)) {
    const [, kind, rest] = m as unknown as [string, string, string];
    if (kind === 'say') say = rest;
    else if (kind === 'shell') actions.push({ kind: 'shell', command: rest });
    else {
      const colon = rest.indexOf(':');
      if (colon > 0)
        actions.push({ kind: 'write', path: rest.slice(0, colon), content: rest.slice(colon + 1) });
    }
  }
  return { actions, ...(say !== undefined ? { say } : {}) };
}

export const scriptedBrain: Brain = (exchange) => {
  if (exchange.tools.length === 0) return { kind: 'text', text: 'Forge task' };
  const { messages } = exchange;
  let at = -1;
  let script: ReturnType<typeof directivesOf> = { actions: [] };
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'user') continue;
    const found = directivesOf(m.text);
    if (found.actions.length || found.say !== undefined) {
      at = i;
      script = found;
      break;
    }
  }
  const done = messages.slice(at + 1).filter((m: Message) => m.role === 'assistant' && m.toolCall).length;
  const next = script.actions[done];
  if (next) return toolCall(next, exchange);
  const summary =
    script.say ??
    (script.actions.length
      ? `Done: ${script.actions.map((a) => (a.kind === 'write' ? `wrote ${a.path}` : `ran ${a.command}`)).join('; ')}.`
      : 'Nothing to do.');
  return { kind: 'text', text: summary };
};

function toolCall(action: Action, exchange: Exchange): Reply {
  const table = (action.kind === 'write' ? WRITE_TOOLS : SHELL_TOOLS) as Record<
    string,
    ArgsOf<typeof action>
  >;
  const scoped = (tool: string) => `${exchange.protocol}:${tool}`;
  const name = exchange.tools.find((t) => scoped(t) in table || t in table);
  if (!name) {
    throw new Error(
      `fake model: no ${action.kind} tool among the offered tools (${exchange.tools.join(', ')}); add it to ${action.kind === 'write' ? 'WRITE_TOOLS' : 'SHELL_TOOLS'}`,
    );
  }
  return { kind: 'tool', name, args: (table[scoped(name)] ?? table[name])!(action, exchange) };
}
