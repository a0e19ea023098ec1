/**
 * Poll until `predicate` returns a truthy value (or a promise of one) and return it. On timeout the
 * error names what was awaited and the last value or exception seen, which is usually the clue.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 5000,
  options: { intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const interval = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      last = await predicate();
      lastError = undefined;
      if (last) return last as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const what = options.what ?? (predicate.toString().replace(/\s+/g, ' ').slice(0, 200) || 'condition');
      const detail =
        lastError !== undefined
          ? `last error: ${(lastError as Error)?.message ?? String(lastError)}`
          : `last value: ${safeJson(last)}`;
      throw new Error(`waitFor timed out after ${timeoutMs} ms waiting for ${what} (${detail})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v)?.slice(0, 300) ?? String(v);
  } catch {
    return String(v);
  }
}
