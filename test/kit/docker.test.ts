import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { enginePaths, useDockerEngine } from './docker.js';
import { debianMirror } from './docker-images.js';

const run = promisify(execFile);
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const use = await useDockerEngine();

describe('test Docker engine', { skip: use.skip }, () => {
  test('runs as the runbook says: overlay2, data root in .cache, no bridge network, open-files cap', async () => {
    const docker = use.engine!.docker;
    const info = (await docker.info()) as { Driver: string; DockerRootDir: string };
    assert.equal(info.Driver, 'overlay2');
    assert.equal(info.DockerRootDir, enginePaths().dataRoot);
    assert.ok(info.DockerRootDir.startsWith(enginePaths().cacheDir));
    const networks = (await docker.listNetworks()).map((n) => n.Name).sort();
    assert.ok(!networks.includes('bridge'), `networks: ${networks.join(', ')}`);
    const cmdline = readFileSync(
      `/proc/${readFileSync(enginePaths().pidFile, 'utf8').trim()}/cmdline`,
      'utf8',
    );
    const args = cmdline.split('\0');
    for (const flag of [
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--storage-driver=overlay2',
    ]) {
      assert.ok(args.includes(flag), `dockerd runs with ${flag}`);
    }
    assert.equal(args[args.indexOf('--default-ulimit') + 1], 'nofile=20000:20000');
  });

  test('another test process reuses the same engine instead of starting a second one', async () => {
    const pid = readFileSync(enginePaths().pidFile, 'utf8').trim();
    const script = `import('./test/kit/docker.ts').then(async (m) => { const e = await m.startDockerEngine(); await e.docker.ping(); console.log(e.host); })`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root });
    assert.equal(stdout.trim(), use.engine!.host);
    assert.equal(readFileSync(enginePaths().pidFile, 'utf8').trim(), pid);
  });

  test('the Debian mirror for debootstrap comes from apt sources', () => {
    const mirror = debianMirror();
    assert.match(mirror, /^https?:\/\//);
    const sources = ['/etc/apt/sources.list', '/etc/apt/sources.list.d/debian.sources']
      .map((f) => {
        try {
          return readFileSync(f, 'utf8');
        } catch {
          return '';
        }
      })
      .join('\n');
    if (sources.trim()) assert.ok(sources.includes(mirror), `${mirror} is in the apt sources`);
  });
});
