/** Commit identities and messages built from user-controlled text (names, titles, instructions). */

export interface Person {
  name: string;
  email: string;
}

/** Git refuses `<`, `>` and newlines in identities; a name made only of those falls back to the email. */
export function cleanPerson(p: Person): Person {
  const email = p.email.replace(/[<>\s]/g, '');
  const name = p.name
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters would corrupt the commit header
    .replace(/[<>\x00-\x1f\x7f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!email) throw new Error('commit identity needs an email');
  return { name: name || email.split('@')[0] || email, email };
}

/** Appends `Co-authored-by:` trailers (deduplicated, never the author themself) after a blank line. */
export function buildCommitMessage(message: string, author: Person, coAuthors: Person[] = []): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a NUL would truncate the message in git
  const body = message.replace(/\x00/g, '').replace(/\r\n/g, '\n').trimEnd() || 'Forge changes';
  const seen = new Set([author.email.toLowerCase()]);
  const trailers: string[] = [];
  for (const raw of coAuthors) {
    const p = cleanPerson(raw);
    const key = p.email.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    trailers.push(`Co-authored-by: ${p.name} <${p.email}>`);
  }
  return trailers.length ? `${body}\n\n${trailers.join('\n')}\n` : `${body}\n`;
}
