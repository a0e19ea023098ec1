/**
 * The host git dir's config is fully known: we write it from this template after cloning and put it
 * back before every host command. In the normal (Docker) setup the agent cannot reach the host git
 * dir at all; this is the second layer for sandboxes that share the filesystem, so a planted
 * `include.path`, `filter.*`, `core.fsmonitor` or credential helper never survives to a host command.
 */
import { lstat, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Parses and normalises an https/http remote URL; refuses credentials, fragments and odd characters. */
export function cleanRemoteUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('clone URL is not a valid URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new Error(`clone URL must be http(s), got ${u.protocol}`);
  }
  if (u.username || u.password) throw new Error('clone URL must not carry credentials');
  if (u.hash) throw new Error('clone URL must not have a fragment');
  // URL() percent-encodes everything unsafe; this also keeps the config file and argv unambiguous.
  if (!/^[\x21-\x7e]+$/.test(u.href)) throw new Error('clone URL has unexpected characters');
  return u.href;
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function hostConfigText(remoteUrl: string, objectFormat?: string): string {
  const lines = [
    '[core]',
    `\trepositoryformatversion = ${objectFormat && objectFormat !== 'sha1' ? 1 : 0}`,
    '\tfilemode = true',
    '\tbare = true',
    '\tlogallrefupdates = false',
  ];
  if (objectFormat && objectFormat !== 'sha1') lines.push('[extensions]', `\tobjectformat = ${objectFormat}`);
  lines.push('[remote "origin"]', `\turl = ${quote(remoteUrl)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Makes `<gitDir>/config` exactly `text`. A symlink or other non-file is removed, never written
 * through. Throws if the git dir itself is no longer a real directory (it was swapped).
 */
export async function enforceHostConfig(gitDir: string, text: string): Promise<void> {
  const dirStat = await lstat(gitDir);
  if (!dirStat.isDirectory()) throw new Error(`host git dir ${gitDir} is not a directory`);
  const file = join(gitDir, 'config');
  const st = await lstat(file).catch(() => undefined);
  if (st?.isFile() && (await readFile(file, 'utf8')) === text) return;
  await rm(file, { force: true, recursive: true });
  await writeFile(file, text, { mode: 0o600, flag: 'wx' });
}
