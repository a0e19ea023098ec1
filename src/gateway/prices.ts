/**
 * What model tokens cost, in US dollars per million tokens, from the providers' public price
 * pages (standard tier, no batch discounts), checked 2026-12. Operators correct or extend it with
 * `FORGE_MODEL_PRICES`. A model matches the longest key that is a prefix of its name ending at a
 * separator (`-`, `_`, `@`, `:`, `[`, `/` or the end), so dated snapshots (`claude-sonnet-4-5-20250929`,
 * `gpt-5.4-mini-2026-03-17`) find their family while `gpt-5.6` does not fall back to `gpt-5`.
 * Unknown models get no cost; their tokens still count (and `FORGE_MAX_TASK_TOKENS` caps them).
 */
import type { TokenReading } from './usage-extract.js';

export interface Rates {
  input: number;
  output: number;
  /** Cache hits; default: the input rate (never under-counts). */
  cacheRead?: number;
  /** 5-minute cache writes (Anthropic); default 1.25 × input, Anthropic's rule. */
  cacheWrite?: number;
  /** 1-hour cache writes (Anthropic); default 2 × input. */
  cacheWrite1h?: number;
}

export interface ModelPrice extends Rates {
  /** A higher rate for every token of a request whose prompt exceeds `above` tokens. */
  longContext?: Rates & { above: number };
}

const claude = (input: number, output: number, cacheRead: number, extra: Partial<ModelPrice> = {}) => ({
  input,
  output,
  cacheRead,
  ...extra,
});
const openai = (input: number, cacheRead: number | undefined, output: number): ModelPrice =>
  cacheRead === undefined ? { input, output } : { input, output, cacheRead };

export const BUILT_IN_PRICES: Readonly<Record<string, ModelPrice>> = {
  // Anthropic (platform.claude.com pricing): 5m writes 1.25×, 1h writes 2× input unless listed.
  'claude-fable-5-1': claude(10, 50, 0.25),
  'claude-mythos-5-1': claude(10, 50, 0.25),
  'claude-fable-5': claude(10, 50, 1),
  'claude-mythos-5': claude(10, 50, 1),
  'claude-opus-5-5': claude(4, 20, 0.2),
  'claude-opus-5': claude(5, 25, 0.5),
  'claude-opus-4-8': claude(5, 25, 0.5),
  'claude-opus-4-7': claude(5, 25, 0.5),
  'claude-opus-4-6': claude(5, 25, 0.5),
  'claude-opus-4-5': claude(5, 25, 0.5),
  'claude-opus-4': claude(15, 75, 1.5),
  'claude-sonnet-5-5': claude(2, 10, 0.1),
  'claude-sonnet-5': claude(2, 10, 0.2),
  'claude-sonnet-4-6': claude(3, 15, 0.3),
  // Sonnet 4 and 4.5 charge more for prompts over 200K tokens (1M-context beta).
  'claude-sonnet-4': claude(3, 15, 0.3, {
    longContext: { above: 200_000, input: 6, output: 22.5, cacheRead: 0.6 },
  }),
  'claude-3-7-sonnet': claude(3, 15, 0.3),
  'claude-haiku-5-5': claude(0.1, 0.5, 0.01, {
    longContext: { above: 100_000, input: 0.5, output: 2.5, cacheRead: 0.05 },
  }),
  'claude-haiku-4-5': claude(1, 5, 0.1),
  'claude-3-5-haiku': claude(0.8, 4, 0.08),
  'claude-3-haiku': claude(0.25, 1.25, 0.03, { cacheWrite: 0.3, cacheWrite1h: 0.5 }),

  // OpenAI (developers.openai.com pricing): input, cached input, output.
  'gpt-5.5': openai(5, 0.5, 30),
  'gpt-5.5-pro': openai(30, undefined, 180),
  'gpt-5.4': openai(2.5, 0.25, 15),
  'gpt-5.4-mini': openai(0.75, 0.075, 4.5),
  'gpt-5.4-nano': openai(0.2, 0.02, 1.25),
  'gpt-5.4-pro': openai(30, undefined, 180),
  'gpt-5.3-codex': openai(1.75, 0.175, 14),
  'gpt-5.2': openai(1.75, 0.175, 14),
  'gpt-5.2-pro': openai(21, undefined, 168),
  'gpt-5.1': openai(1.25, 0.125, 10),
  'gpt-5.1-codex-mini': openai(0.25, 0.025, 2),
  'gpt-5': openai(1.25, 0.125, 10),
  'gpt-5-mini': openai(0.25, 0.025, 2),
  'gpt-5-nano': openai(0.05, 0.005, 0.4),
  'gpt-5-pro': openai(15, undefined, 120),
  'codex-mini-latest': openai(1.5, 0.375, 6),
  'gpt-4.1': openai(2, 0.5, 8),
  'gpt-4.1-mini': openai(0.4, 0.1, 1.6),
  'gpt-4.1-nano': openai(0.1, 0.025, 0.4),
  'gpt-4o': openai(2.5, 1.25, 10),
  'gpt-4o-mini': openai(0.15, 0.075, 0.6),
  o3: openai(2, 0.5, 8),
  'o3-mini': openai(1.1, 0.55, 4.4),
  'o3-pro': openai(20, undefined, 80),
  'o4-mini': openai(1.1, 0.275, 4.4),

  // Google (ai.google.dev pricing), paid tier; Pro models charge more above 200K prompt tokens.
  'gemini-3-pro': {
    input: 2,
    output: 12,
    cacheRead: 0.2,
    longContext: { above: 200_000, input: 4, output: 18, cacheRead: 0.4 },
  },
  'gemini-3-flash': { input: 0.5, output: 3, cacheRead: 0.05 },
  'gemini-2.5-pro': {
    input: 1.25,
    output: 10,
    cacheRead: 0.125,
    longContext: { above: 200_000, input: 2.5, output: 15, cacheRead: 0.25 },
  },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cacheRead: 0.03 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cacheRead: 0.01 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4, cacheRead: 0.025 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
};

const SEPARATOR = /[-_@:[/]/;

/** Lower case, without a resource prefix such as Gemini's `models/`. */
export function normalizeModel(model: string): string {
  const name = model.trim().toLowerCase();
  return name.slice(name.lastIndexOf('/') + 1);
}

function longestPrefix<T>(table: Readonly<Record<string, T>>, model: string): T | undefined {
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (!model.startsWith(key)) continue;
    const next = model.charAt(key.length);
    if (next !== '' && !SEPARATOR.test(next)) continue;
    if (best === undefined || key.length > best.length) best = key;
  }
  return best === undefined ? undefined : table[best];
}

export class PriceTable {
  private readonly overrides: Record<string, ModelPrice>;

  /** Overrides (model prefix → rates) win over the built-in table, however short their key. */
  constructor(
    overrides: Readonly<Record<string, Rates>> = {},
    private readonly builtIn: Readonly<Record<string, ModelPrice>> = BUILT_IN_PRICES,
  ) {
    this.overrides = Object.fromEntries(Object.entries(overrides).map(([k, v]) => [normalizeModel(k), v]));
  }

  lookup(model: string): ModelPrice | undefined {
    const name = normalizeModel(model);
    return longestPrefix(this.overrides, name) ?? longestPrefix(this.builtIn, name);
  }

  /** Dollars for one response, or undefined when none of the names has a price. */
  cost(reading: TokenReading, ...models: (string | undefined)[]): number | undefined {
    for (const model of models) {
      const price = model ? this.lookup(model) : undefined;
      if (price) return costOf(price, reading);
    }
    return undefined;
  }
}

export function costOf(price: ModelPrice, reading: TokenReading): number {
  const long = price.longContext;
  const rates: Rates = long && reading.inputTokens > long.above ? long : price;
  const write1h = Math.min(reading.cacheWrite1hTokens, reading.cacheWriteTokens);
  const write5m = reading.cacheWriteTokens - write1h;
  const uncached = Math.max(0, reading.inputTokens - reading.cacheReadTokens - reading.cacheWriteTokens);
  const perMillion =
    uncached * rates.input +
    reading.cacheReadTokens * (rates.cacheRead ?? rates.input) +
    write5m * (rates.cacheWrite ?? rates.input * 1.25) +
    write1h * (rates.cacheWrite1h ?? rates.input * 2) +
    reading.outputTokens * rates.output;
  return perMillion / 1_000_000;
}
