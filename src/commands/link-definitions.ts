/**
 * Markdown link reference definitions (`[label]: destination "title"`) render as nothing: one that
 * nothing links to — like the `[//]: # (comment)` and `[comment]: <> (comment)` idioms — is text no
 * reader sees, and the title of one that is linked to shows only on hover. Unused definitions and
 * those that link nowhere (`#`, `<>`) are removed; a used one keeps its label and destination and
 * loses its title. Definitions in fenced code blocks are code, shown as written, and stay.
 *
 * Close to CommonMark, leaning towards removing: a definition-shaped line is removed wherever it
 * stands (also inside a paragraph, where it would show), in block quotes and list items too. Linear
 * in the text's length: labels are at most 999 characters (as in CommonMark), and a title's scan
 * stops at its closing character or a blank line, which no later scan crosses again.
 */

interface Definition {
  /** Start of the line the definition is on, and the end of its last line (after the newline). */
  start: number;
  end: number;
  label: string;
  /** Where the destination ends (what a used definition keeps). */
  destEnd: number;
  /** The destination links nowhere: `#`, or empty (`<>`). */
  nowhere: boolean;
}

const MAX_LABEL = 999;

export function stripLinkDefinitions(text: string): string {
  if (!text.includes(']:')) return text;
  const defs = findDefinitions(text);
  if (!defs.length) return text;
  // Labels linked to from outside the definitions: `[text][label]`, `[label][]` and `[label]`.
  let outside = '';
  let at = 0;
  for (const d of defs) {
    outside += `${text.slice(at, d.start)}\n`;
    at = d.end;
  }
  outside += text.slice(at);
  const used = new Set<string>();
  for (const m of outside.matchAll(/\[([^[\]]{1,999})\]/g)) used.add(normalize(m[1]!));

  let out = '';
  at = 0;
  for (const d of defs) {
    out += text.slice(at, d.start);
    if (!d.nowhere && used.has(normalize(d.label))) {
      out += `${text.slice(d.start, d.destEnd)}${text[d.end - 1] === '\n' ? '\n' : ''}`;
    }
    at = d.end;
  }
  return out + text.slice(at);
}

/** How CommonMark matches labels: case-insensitively, with runs of whitespace as one space. */
function normalize(label: string): string {
  return label.trim().replace(/\s+/g, ' ').toLowerCase();
}

function findDefinitions(text: string): Definition[] {
  const defs: Definition[] = [];
  let fence: { char: string; length: number } | undefined;
  let pos = 0;
  while (pos < text.length) {
    const lineEnd = endOfLine(text, pos);
    const line = text.slice(pos, lineEnd);
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      const closes =
        marker?.[0] === fence.char && marker.length >= fence.length && /^ {0,3}[`~]+[ \t]*$/.test(line);
      if (closes) fence = undefined;
      pos = lineEnd + 1;
      continue;
    }
    // A backtick fence's info string has no backtick (else it is inline code, not a fence).
    if (marker && !(marker[0] === '`' && line.slice(line.indexOf(marker) + marker.length).includes('`'))) {
      fence = { char: marker[0]!, length: marker.length };
      pos = lineEnd + 1;
      continue;
    }
    const def = parseDefinition(text, pos);
    if (def) {
      defs.push(def);
      pos = def.end;
    } else {
      pos = lineEnd + 1;
    }
  }
  return defs;
}

/** The definition that starts on the line at `start`, if any. */
function parseDefinition(text: string, start: number): Definition | undefined {
  let i = skipContainerMarkers(text, start);
  if (text[i] !== '[') return undefined;
  // The label: no unescaped brackets, no blank line, not only whitespace.
  let j = i + 1;
  for (;;) {
    if (j >= text.length || j - i > MAX_LABEL + 1) return undefined;
    const c = text[j];
    if (c === '\\') j += 2;
    else if (c === '[') return undefined;
    else if (c === ']') break;
    else if (c === '\n' && isBlankLineAt(text, j + 1)) return undefined;
    else j++;
  }
  const label = text.slice(i + 1, j);
  if (label.trim() === '' || text[j + 1] !== ':') return undefined;
  const destStart = skipSpaceAndOneLineBreak(text, j + 2);
  if (destStart === undefined) return undefined;
  i = destStart;

  // The destination: `<…>` on one line, or a run of non-space characters.
  let dest: string;
  if (text[i] === '<') {
    let k = i + 1;
    while (k < text.length && text[k] !== '>') {
      if (text[k] === '\n' || text[k] === '<') return undefined;
      k += text[k] === '\\' ? 2 : 1;
    }
    if (k >= text.length) return undefined;
    dest = text.slice(i + 1, k);
    i = k + 1;
  } else {
    let k = i;
    while (k < text.length && text.charCodeAt(k) > 0x20 && text.charCodeAt(k) !== 0x7f) k++;
    if (k === i) return undefined;
    dest = text.slice(i, k);
    i = k;
  }
  const destEnd = i;
  const nowhere = dest === '' || dest === '#';
  const def = (end: number): Definition => ({ start, end, label, destEnd, nowhere });

  // An optional title, after whitespace: on the destination's line, or on the next one.
  let k = skipInline(text, i);
  const spaced = k > i;
  if (k >= text.length) return def(text.length);
  if (text[k] !== '\n') {
    if (!spaced || !isTitleOpener(text[k])) return undefined;
    const end = titleEnd(text, k);
    return end === undefined ? undefined : def(end);
  }
  const afterDestLine = k + 1;
  k = skipInline(text, skipQuoteMarkers(text, afterDestLine));
  if (isTitleOpener(text[k])) {
    const end = titleEnd(text, k);
    if (end !== undefined) return def(end);
  }
  return def(afterDestLine);
}

function isTitleOpener(c: string | undefined): boolean {
  return c === '"' || c === "'" || c === '(';
}

/** After a title opening at `open`: the end of its line, if only whitespace follows it there. */
function titleEnd(text: string, open: number): number | undefined {
  const opener = text[open];
  const closer = opener === '(' ? ')' : opener;
  let m = open + 1;
  for (;;) {
    if (m >= text.length) return undefined;
    const c = text[m];
    if (c === '\\') m += 2;
    else if (c === closer) break;
    else if (opener === '(' && c === '(') return undefined;
    else if (c === '\n' && isBlankLineAt(text, m + 1)) return undefined;
    else m++;
  }
  const after = skipInline(text, m + 1);
  if (after >= text.length) return text.length;
  return text[after] === '\n' ? after + 1 : undefined;
}

/** Block quote markers, list item markers and indentation before a definition on its line. */
function skipContainerMarkers(text: string, start: number): number {
  let i = start;
  for (let depth = 0; depth < 20; depth++) {
    i = skipInline(text, i, 12);
    if (text[i] === '>') {
      i++;
      continue;
    }
    const list = /(?:[-+*]|\d{1,9}[.)])[ \t]/y;
    list.lastIndex = i;
    if (!list.test(text)) break;
    i = list.lastIndex;
  }
  return i;
}

/** On a continuation line: block quote markers and indentation. */
function skipQuoteMarkers(text: string, start: number): number {
  let i = skipInline(text, start, 12);
  while (text[i] === '>') i = skipInline(text, i + 1, 12);
  return i;
}

/** Spaces and tabs, then at most one line break (and the next line's markers), but not a blank line. */
function skipSpaceAndOneLineBreak(text: string, start: number): number | undefined {
  let i = skipInline(text, start);
  if (text[i] === '\n') {
    if (isBlankLineAt(text, i + 1)) return undefined;
    i = skipInline(text, skipQuoteMarkers(text, i + 1));
  }
  return i >= text.length ? undefined : i;
}

/** Spaces and tabs (and the `\r` of a CRLF line ending). */
function skipInline(text: string, start: number, max = Number.POSITIVE_INFINITY): number {
  let i = start;
  while (i - start < max && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
  return i;
}

function isBlankLineAt(text: string, lineStart: number): boolean {
  const i = skipInline(text, lineStart);
  return i >= text.length || text[i] === '\n';
}

function endOfLine(text: string, pos: number): number {
  const end = text.indexOf('\n', pos);
  return end === -1 ? text.length : end;
}
