/**
 * Branch names for new work: `forge/<issue>-<slug>` (the prefix a repository may change). Deterministic from the issue so a retried job
 * lands on the same name, with `-2`, `-3`, … only when a name is already taken on the forge.
 */

const SLUG_MAX = 40;
const MAX_ATTEMPTS = 100;

/** ASCII, lowercase, dash-separated, at most 40 characters, never starting or ending with a dash. */
export function slugify(title: string): string {
  return clip(
    title
      // "Ünïcode" → "Unicode": decompose, then drop the combining marks.
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, ''),
  );
}

/** Cuts at a word boundary when one is near, so names read `…-for-negative` not `…-for-negativ`. */
function clip(slug: string): string {
  if (slug.length <= SLUG_MAX) return slug;
  const cut = slug.slice(0, SLUG_MAX + 1);
  const lastDash = cut.lastIndexOf('-');
  return (lastDash >= SLUG_MAX / 2 ? cut.slice(0, lastDash) : slug.slice(0, SLUG_MAX)).replace(/-+$/, '');
}

export async function branchName(
  issueNumber: number,
  title: string,
  taken: (name: string) => Promise<boolean>,
  /** From the repository's `branchPrefix` setting; must keep the name a valid branch name. */
  prefix = 'forge/',
): Promise<string> {
  if (!Number.isSafeInteger(issueNumber) || issueNumber <= 0) {
    throw new Error(`invalid issue number: ${issueNumber}`);
  }
  const slug = slugify(title);
  const base = slug ? `${prefix}${issueNumber}-${slug}` : `${prefix}${issueNumber}`;
  if (!isValidBranchName(base)) throw new Error(`invalid branch name prefix: ${JSON.stringify(prefix)}`);
  for (let n = 1; n <= MAX_ATTEMPTS; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!(await taken(name))) return name;
  }
  throw new Error(`no free branch name for ${base} after ${MAX_ATTEMPTS} attempts`);
}

/**
 * Whether `name` is a branch name git accepts (the rules of `git check-ref-format --branch`).
 * Checked before a name reaches git's argv so it can never be read as an option or a refspec.
 */
export function isValidBranchName(name: string): boolean {
  if (!name || name.length > 255 || name.startsWith('-') || name === '@') return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: git forbids control characters in ref names
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  if (name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false;
  return name.split('/').every((part) => part.length > 0 && !part.startsWith('.') && !part.endsWith('.lock'));
}
