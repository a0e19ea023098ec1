import { SETTINGS, type SettingDef } from './settings.js';

/** The README's configuration table, generated from the settings list (a test keeps them in step). */
export function renderConfigTable(): string {
  const rows = (Object.values(SETTINGS) as SettingDef[]).map(
    (d) =>
      `| \`${d.env}\` | ${d.yaml ? `\`${d.yaml}\`` : '—'} | ${d.default ? `\`${d.default}\`` : '—'} | ${d.meaning} |`,
  );
  return ['| Variable | YAML key | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}
