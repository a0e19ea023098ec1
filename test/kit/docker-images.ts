/**
 * Images for tests, made offline (no registry is reachable here):
 *
 * - `ensureBusyboxImage`: a ~2 MB image of the static busybox, for sandbox tests that need only a
 *   shell.
 * - `ensureBaseImage`: Debian bookworm from `debootstrap --variant=minbase` with git,
 *   ca-certificates and ripgrep, plus the host's own node and npm (same Debian libraries, so they
 *   run). It stands in for `node:20-bookworm-slim` as the BASE_IMAGE of docker/'s Dockerfiles. The
 *   root filesystem tarball is cached in `.cache/docker` under a hash of everything that goes into
 *   it, so debootstrap (~60 s) runs once per machine; the engine keeps the imported image.
 *
 * Image tags carry the same hash, so a changed recipe or a new node binary yields a new image.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { chmod, cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { enginePaths, withLock } from './docker.js';
import { ensureCommand } from './require.js';

const run = promisify(execFile);

export const BASE_SUITE = 'bookworm';
export const BASE_PACKAGES = ['git', 'ca-certificates', 'ripgrep'];
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const fileHashes = new Map<string, Promise<string>>();

/** Streaming content hash of a (large) file, once per process. */
export function hashFile(path: string): Promise<string> {
  let hash = fileHashes.get(path);
  if (!hash) {
    hash = new Promise((resolve, reject) => {
      const h = createHash('sha256');
      createReadStream(path)
        .on('data', (chunk) => h.update(chunk))
        .once('error', reject)
        .once('end', () => resolve(h.digest('hex')));
    });
    fileHashes.set(path, hash);
  }
  return hash;
}

export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

/** Waits for a progress stream (import, build) and fails on any `error` message in it. */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: Array<{ error?: string; stream?: string }>) => {
        const failed = output?.find((o) => o.error);
        if (error || failed) reject(new Error(`${failed?.error ?? error?.message}\n${text.slice(-4000)}`));
        else resolve(text);
      },
      (event: { stream?: string }) => {
        if (event.stream) text += event.stream;
      },
    );
  });
}

/** `tar -c` of a directory as a stream (numeric owners, so uid/gid 0 and 1000 survive as is). */
export function tarDirectory(dir: string): Readable {
  const child = spawn('tar', ['-C', dir, '--numeric-owner', '-c', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.once('exit', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`tar -C ${dir} failed (${code}): ${stderr}`));
  });
  return child.stdout;
}

async function importImage(docker: Docker, source: Readable, ref: string, changes: string[]): Promise<void> {
  const [repo, tag] = ref.split(':');
  const stream = await docker.importImage(source, { repo, tag, changes });
  await followProgress(docker, stream);
}

/** The tiny busybox image. Its tag names the busybox binary's hash. */
export async function ensureBusyboxImage(docker: Docker): Promise<string> {
  await ensureCommand('busybox', 'busybox-static');
  const busybox = '/bin/busybox';
  // ldd fails ("not a dynamic executable") on a static binary: the only kind that runs in an
  // image without a libc.
  const dynamic = await run('ldd', [busybox]).then(
    () => true,
    () => false,
  );
  if (dynamic) {
    throw new Error(`${busybox} is not the static busybox; apt-get install -y busybox-static`);
  }
  const ref = `forge-test/busybox:${(await hashFile(busybox)).slice(0, 12)}`;
  if (await imageExists(docker, ref)) return ref;
  const dir = join(enginePaths().cacheDir, 'docker', `busybox-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(join(dir, 'bin'), { recursive: true });
    await cp(busybox, join(dir, 'bin', 'busybox'));
    const { stdout } = await run(busybox, ['--list']);
    for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) {
      await symlink('busybox', join(dir, 'bin', applet));
    }
    await mkdir(join(dir, 'etc'));
    await writeFile(
      join(dir, 'etc', 'passwd'),
      'root:x:0:0:root:/root:/bin/sh\nagent:x:1000:1000::/home/agent:/bin/sh\n',
    );
    await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nagent:x:1000:\n');
    await mkdir(join(dir, 'tmp'));
    await chmod(join(dir, 'tmp'), 0o1777);
    await importImage(docker, tarDirectory(dir), ref, [`ENV ${PATH_ENV}`, 'CMD ["/bin/sh"]']);
    return ref;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The Debian mirror this machine's apt uses (deb822 `.sources` or a classic `sources.list`). */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) files.push(join(dir, f));
  for (const file of files) {
    if (!/\.(list|sources)$/.test(file) || !existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    for (const stanza of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uris && suites.includes(BASE_SUITE) && !/^#/m.test(stanza.split('\n')[0] ?? '')) return uris;
    }
    const line = new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${BASE_SUITE}\\s`, 'm').exec(text);
    if (line?.[1]) return line[1];
  }
  return 'http://deb.debian.org/debian';
}

interface BaseRecipe {
  key: string;
  mirror: string;
  npmDir: string;
}

async function baseRecipe(): Promise<BaseRecipe> {
  const mirror = debianMirror();
  const npmDir = '/usr/lib/node_modules/npm';
  const npmVersion = (JSON.parse(readFileSync(join(npmDir, 'package.json'), 'utf8')) as { version: string })
    .version;
  const key = sha256(
    JSON.stringify({
      recipe: 1,
      suite: BASE_SUITE,
      variant: 'minbase',
      packages: BASE_PACKAGES,
      mirror,
      node: await hashFile('/usr/bin/node'),
      npmVersion,
    }),
  ).slice(0, 16);
  return { key, mirror, npmDir };
}

async function buildRootfsTarball(recipe: BaseRecipe, tarball: string): Promise<void> {
  await ensureCommand('debootstrap', 'debootstrap');
  const work = `${tarball}.work-${randomBytes(4).toString('hex')}`;
  const rootfs = join(work, 'rootfs');
  try {
    await mkdir(work, { recursive: true });
    await run(
      'debootstrap',
      ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, BASE_SUITE, rootfs, recipe.mirror],
      { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 },
    ).catch((error: { stderr?: string; stdout?: string; message: string }) => {
      throw new Error(
        `debootstrap of ${BASE_SUITE} from ${recipe.mirror} failed: ${error.message}\n${String(error.stdout ?? '').slice(-3000)}`,
      );
    });
    await cp('/usr/bin/node', join(rootfs, 'usr', 'bin', 'node'));
    await cp(recipe.npmDir, join(rootfs, 'usr', 'lib', 'node_modules', 'npm'), { recursive: true });
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr', 'bin', 'npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr', 'bin', 'npx'));
    // Package caches and lists are dead weight in an image.
    await run('sh', [
      '-c',
      `rm -rf "${rootfs}"/var/cache/apt/archives/*.deb "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/log/*.log`,
    ]);
    const tmp = `${tarball}.tmp-${randomBytes(4).toString('hex')}`;
    await run('tar', ['-C', rootfs, '--numeric-owner', '-cf', tmp, '.'], { maxBuffer: 16 * 1024 * 1024 });
    renameSync(tmp, tarball);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The offline Debian + Node base image (`forge-test/base:<hash>`), building the rootfs tarball
 * with debootstrap the first time on this machine and importing it the first time on this engine.
 */
export async function ensureBaseImage(docker: Docker): Promise<string> {
  const recipe = await baseRecipe();
  const ref = `forge-test/base:${recipe.key.slice(0, 12)}`;
  if (await imageExists(docker, ref)) return ref;
  const dir = join(enginePaths().cacheDir, 'docker');
  await mkdir(dir, { recursive: true });
  const tarball = join(dir, `base-rootfs-${recipe.key}.tar`);
  await withLock(
    join(dir, 'base-image.lock'),
    async () => {
      if (await imageExists(docker, ref)) return;
      if (!existsSync(tarball)) await buildRootfsTarball(recipe, tarball);
      await importImage(docker, createReadStream(tarball), ref, [`ENV ${PATH_ENV}`, 'CMD ["/bin/bash"]']);
    },
    20 * 60_000,
  );
  return ref;
}
