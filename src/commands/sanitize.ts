/**
 * Strips what a reader of the issue cannot see but an agent would: HTML comments, Markdown link
 * reference definitions nothing links to (the `[//]: # (…)` "comment" idiom), invisible characters
 * and bidirectional controls that reorder text. Applied to instruction and context text when a turn
 * is snapshotted. Linear in the text's length: it runs on hostile text.
 */
import { stripLinkDefinitions } from './link-definitions.js';

const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
/**
 * Unicode's Default_Ignorable_Code_Point (zero-width and format characters, soft hyphen, BOM,
 * variation selectors, Hangul fillers, the "tag" block used to smuggle invisible ASCII, …) and
 * Bidi_Control (LRM/RLM, U+061C ARABIC LETTER MARK, embeddings, overrides, isolates), plus the
 * interlinear annotation marks U+FFF9–U+FFFB, which hide the text between them.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}\uFFF9-\uFFFB]/gu;

export function stripHidden(text: string): string {
  // Invisible characters go before the definitions, so none can hide a definition from the scan.
  return stripLinkDefinitions(text.replace(HTML_COMMENT, '').replace(INVISIBLE, ''));
}
