#!/usr/bin/env node
// The npm registry mirror these machines use lacks some other-platform builds of optional native
// packages (e.g. @biomejs/cli-darwin-arm64). `npm install` then leaves them out of
// package-lock.json and `npm ci` refuses the lockfile as out of sync. This adds lock entries for
// such packages with their os/cpu, so `npm ci` skips them on platforms that do not match, exactly
// as it would with a complete lockfile. Run after `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const platform = (name) => {
  const os = ['android', 'darwin', 'linux', 'win32', 'freebsd'].find((o) => name.includes(o));
  const cpu = ['arm64', 'x64', 'arm', 'ia32'].find((c) =>
    new RegExp(`${c}(-|$)`).test(name.split(os ?? '').pop() ?? ''),
  );
  const libc = name.includes('musl') ? ['musl'] : os === 'linux' ? ['glibc'] : undefined;
  return { os, cpu, libc };
};
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key] || lock.packages[`${path}/${key}`]) continue;
    const { os, cpu, libc } = platform(name);
    if (!os || !cpu) continue;
    lock.packages[key] = {
      version,
      ...(entry.dev ? { dev: true } : {}),
      cpu: [cpu],
      ...(libc ? { libc } : {}),
      optional: true,
      os: [os],
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} lock entries for other-platform optional packages`);
