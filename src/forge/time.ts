/** A payload's timestamp as ISO 8601, or nothing when it is missing or not a date. */
export function isoTime(value: string | null | undefined): { createdAt?: string } {
  if (!value) return {};
  const at = Date.parse(value);
  return Number.isNaN(at) ? {} : { createdAt: new Date(at).toISOString() };
}
