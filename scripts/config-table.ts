import { readFileSync, writeFileSync } from 'node:fs';
import { renderConfigTable } from '../src/config/table.js';

/** Rewrites the configuration table in README.md from src/config/settings.ts. */
const readme = readFileSync('README.md', 'utf8');
const next = readme.replace(
  /(<!-- config-table:start -->\n)[\s\S]*?(\n<!-- config-table:end -->)/,
  (_m, start: string, end: string) => `${start}${renderConfigTable()}${end}`,
);
writeFileSync('README.md', next);
console.log(next === readme ? 'README table already up to date' : 'README table updated');
