/**
 * Redaction registry for everything Forge writes out: log lines, agent output, comments.
 *
 * Two sources of truth: secrets Forge knows (installation tokens, API keys from config — added as
 * they are minted) and token shapes it doesn't know but recognises (a user's PAT pasted into a log).
 * Everything is matched by one combined regex, rebuilt lazily after `add`, because this runs on
 * every log line.
 */

export const REDACTED = '***';

/** Shorter values would match ordinary words and shred the logs. */
export const MIN_SECRET_LENGTH = 8;

/**
 * Built-in shapes. Each either matches only the secret, or keeps a non-secret prefix in its single
 * capture group (e.g. `Bearer `, `https://user:`) so the redacted text still reads well.
 * Every pattern is anchored on a literal or a bounded prefix, so the combined regex stays linear.
 */
const BUILT_IN: readonly string[] = [
  // PEM private keys, also when a log line cuts the block short.
  String.raw`-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|$)`,
  // GitHub tokens: personal (ghp), OAuth (gho), user-to-server (ghu), installation (ghs), refresh (ghr).
  String.raw`\bgh[pousr]_[A-Za-z0-9]{20,}`,
  String.raw`\bgithub_pat_[A-Za-z0-9_]{20,}`,
  // GitLab personal, project/group, deploy, runner, trigger, OAuth tokens.
  String.raw`\bgl(?:pat|dt|rt|ptt|cbt|oas|soat|ft|imt)-[A-Za-z0-9_\-]{20,}`,
  // Anthropic (sk-ant-…), OpenAI (sk-…, sk-proj-…) and look-alike API keys.
  String.raw`\bsk-[A-Za-z0-9_\-]{16,}`,
  // JWTs (GitHub App tokens, OIDC): three base64url segments, the first a JSON header.
  String.raw`\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}`,
  // Authorization headers in any serialisation: `Authorization: token x`, `"authorization":"Bearer x"`.
  String.raw`(\bauthorization["']?\s{0,4}[:=]\s{0,4}["']?(?:bearer|token|basic)\s{1,4})[^\s"',;]+`,
  String.raw`(\bbearer\s{1,4})[A-Za-z0-9._~+/\-]{8,}=*`,
  // Credentials in URLs: keep the scheme and user (often just `x-access-token`, or none at all as in
  // `redis://:password@host`), drop the password.
  String.raw`(\b[a-z][a-z0-9+.\-]{0,15}://[^\s/@:]{0,200}:)[^\s/@]{1,2000}(?=@)`,
];

/** Log-object keys whose string values are secret whatever they look like. */
const SECRET_KEY =
  /^(?:authorization|proxy-authorization|cookie|set-cookie|password|passwd|passphrase|secret|client_?secret|token|access_?token|refresh_?token|id_?token|api_?key|x-api-key|private_?key|webhook_?secret)$/i;

export class Redactor {
  readonly #secrets = new Set<string>();
  #pattern: RegExp | undefined;
  #prefixGroups = 0;

  /** Registers a secret; every later `redact` hides it. Values shorter than 8 characters are ignored. */
  add(secret: string): void {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) return;
    const before = this.#secrets.size;
    this.#secrets.add(secret);
    // Tokens travel inside URLs too (clone URLs, query strings).
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) this.#secrets.add(encoded);
    if (this.#secrets.size !== before) this.#pattern = undefined;
  }

  /** Forgets a secret that can no longer be used (an expired installation token), keeping the regex small. */
  remove(secret: string): void {
    const a = this.#secrets.delete(secret);
    const b = this.#secrets.delete(encodeURIComponent(secret));
    if (a || b) this.#pattern = undefined;
  }

  redact(text: string): string {
    if (typeof text !== 'string' || text.length < MIN_SECRET_LENGTH) return text;
    const pattern = this.#compiled();
    const groups = this.#prefixGroups;
    return text.replace(pattern, (...args: unknown[]) => {
      for (let i = 1; i <= groups; i++) {
        const prefix = args[i];
        if (typeof prefix === 'string') return prefix + REDACTED;
      }
      return REDACTED;
    });
  }

  /**
   * Deep copy of a log object with every string redacted and secret-named keys blanked. Handles
   * cycles and Errors (whose message and stack are not enumerable, so would otherwise slip through).
   */
  redactObject<T>(value: T): T {
    return this.#walk(value, new WeakMap()) as T;
  }

  #walk(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object') return value;
    const done = seen.get(value);
    if (done !== undefined) return done;

    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (const item of value) out.push(this.#walk(item, seen));
      return out;
    }
    if (value instanceof URL) return this.redact(value.href);
    if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
    if (value instanceof Map) {
      const out = new Map<unknown, unknown>();
      seen.set(value, out);
      for (const [k, v] of value) out.set(k, this.#entry(k, v, seen));
      return out;
    }

    const out: Record<string, unknown> = {};
    seen.set(value, out);
    if (value instanceof Error) {
      out.type = value.name;
      out.message = this.redact(value.message);
      if (value.stack !== undefined) out.stack = this.redact(value.stack);
      if (value.cause !== undefined) out.cause = this.#walk(value.cause, seen);
    }
    let entries: Array<[string, unknown]>;
    try {
      entries = Object.entries(value);
    } catch {
      // A hostile getter or revoked proxy must not take the logger down.
      return '[unreadable]';
    }
    for (const [k, v] of entries) out[k] = this.#entry(k, v, seen);
    return out;
  }

  #entry(key: unknown, value: unknown, seen: WeakMap<object, unknown>): unknown {
    // Only strings: `token: 1234` in agent usage stats is a count, not a credential.
    if (typeof key === 'string' && typeof value === 'string' && value !== '' && SECRET_KEY.test(key)) {
      return REDACTED;
    }
    return this.#walk(value, seen);
  }

  #compiled(): RegExp {
    if (this.#pattern) return this.#pattern;
    // Longest first, so a secret that contains another is hidden whole.
    const secrets = [...this.#secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
    // Built-ins first: their capture groups are numbered 1..n; escaped secrets add none.
    const source = [...BUILT_IN, ...secrets].map((p) => `(?:${p})`).join('|');
    // `i` makes secrets match case-insensitively too: over-redacting a look-alike is harmless.
    this.#pattern = new RegExp(source, 'gi');
    this.#prefixGroups = BUILT_IN.reduce((n, p) => n + countGroups(p), 0);
    return this.#pattern;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Capturing groups in a pattern: `(` not escaped and not followed by `?`. */
function countGroups(pattern: string): number {
  return new RegExp(`${pattern}|`).exec('')!.length - 1;
}
