/**
 * Strips what a reader of the issue cannot see but an agent would: HTML comments, invisible
 * characters (zero-width, word joiners, BOM, soft hyphen, tag characters) and bidirectional
 * overrides that reorder text. Applied to instruction and context text when a turn is snapshotted.
 */
const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
// Zero-width and format characters, soft hyphen, BOM, bidi embeddings/overrides/isolates, and the
// Unicode "tag" block used to smuggle invisible ASCII.
const INVISIBLE =
  /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]|\uDB40[\uDC00-\uDC7F]/g;

export function stripHidden(text: string): string {
  return text.replace(HTML_COMMENT, '').replace(INVISIBLE, '');
}
