import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** True when `cmd` is an executable on PATH (or an executable path, if it contains a slash). */
export async function commandExists(cmd: string): Promise<boolean> {
  const candidates = cmd.includes('/')
    ? [cmd]
    : (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).map((dir) => join(dir, cmd));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return true;
    } catch {
      // not here, try the next PATH entry
    }
  }
  return false;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

// One `apt-get update` per process: the package lists do not change between two installs.
let aptUpdated: Promise<unknown> | undefined;

async function aptInstall(aptPackage: string): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Several test files (separate processes) may install at once: wait for dpkg's lock instead
  // of failing on it.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  aptUpdated ??= run('apt-get', [...lock, 'update'], { env, maxBuffer: 64 * 1024 * 1024 });
  await aptUpdated;
  await run('apt-get', [...lock, 'install', '-y', '--no-install-recommends', aptPackage], {
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * Makes sure `cmd` is available. Installs don't survive to CI or the next machine, so the tests
 * install what they need themselves: as root with apt-get, the Debian package `aptPackage` is
 * installed once; otherwise this throws an Error saying exactly what to install.
 */
export async function ensureCommand(cmd: string, aptPackage: string): Promise<void> {
  if (await commandExists(cmd)) return;
  const howTo = `install it with: apt-get install -y ${aptPackage}`;
  if (!isRoot() || !(await commandExists('apt-get'))) {
    throw new Error(`The tests need \`${cmd}\`, which is not on PATH; ${howTo} (as root).`);
  }
  try {
    await aptInstall(aptPackage);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-5).join('\n');
    throw new Error(`Installing ${aptPackage} for \`${cmd}\` failed; ${howTo}.\n${stderr ?? String(error)}`);
  }
  if (!(await commandExists(cmd))) {
    throw new Error(`apt-get installed ${aptPackage} but \`${cmd}\` is still not on PATH.`);
  }
}

/** True when running in CI, where nothing the tests need may be silently skipped. */
export function isCI(): boolean {
  const ci = process.env.CI?.toLowerCase();
  return ci === 'true' || ci === '1';
}

/**
 * Decides what a test does about a component it needs (a binary, a daemon, a browser). Returns
 * the value for node:test's `skip` option: `false` when the component is there, a skip reason
 * when it is missing on a developer machine. Under CI=true a missing component is a failure,
 * never a skip, so this throws: a green CI run means the tests really ran.
 *
 *   test('pushes a branch', { skip: requireComponent('docker', hasDocker, 'apt-get install -y docker.io') }, ...)
 */
export function requireComponent(name: string, found: boolean, howToInstall: string): false | string {
  if (found) return false;
  const message = `${name} is missing; ${howToInstall}`;
  if (isCI()) throw new Error(`${message} (CI=true: a missing component fails the run instead of skipping)`);
  return message;
}
