/**
 * Gemini CLI's user settings in the per-task home (`~/.gemini/settings.json`). Forge's keys are laid
 * over whatever the file already holds (the CLI keeps its own state there too):
 *
 * - `security.auth.selectedType: gemini-api-key`: with GOOGLE_GEMINI_BASE_URL set and no selected
 *   type, 0.61 picks a "gateway" auth type that its own validation then rejects ("Invalid auth
 *   method selected", exit 41). The key comes from GEMINI_API_KEY, the base URL still applies.
 * - usage statistics and telemetry off (no traffic to Google besides the model, which goes to
 *   Forge's gateway), no auto-update.
 * - `context.fileName: GEMINI.md, AGENTS.md`: repository instructions in either file are read.
 * - `advanced.ignoreLocalEnv`: a `.env` in the (hostile) checkout does not feed the CLI's environment.
 */
import type { SandboxSession } from '../sandbox/types.js';
import { readHomeFile, writeHomeFile } from './cli-home.js';
import { bestEffort } from './file-notes.js';
import { isRecord, type JsonRecord } from './stream-lines.js';
import type { AgentRunContext } from './types.js';

export const GEMINI_SETTINGS_FILE = '.gemini/settings.json';
export const GEMINI_CONTEXT_FILES = ['GEMINI.md', 'AGENTS.md'] as const;

const FORGE_SETTINGS: JsonRecord = {
  security: { auth: { selectedType: 'gemini-api-key' } },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
  context: { fileName: [...GEMINI_CONTEXT_FILES] },
  advanced: { ignoreLocalEnv: true },
};

/** Forge's settings merged over `existing` (an unreadable or non-object file is replaced). */
export function geminiSettings(existing: unknown): JsonRecord {
  return merge(isRecord(existing) ? existing : {}, FORGE_SETTINGS);
}

function merge(base: JsonRecord, over: JsonRecord): JsonRecord {
  const out: JsonRecord = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isRecord(value) && isRecord(current) ? merge(current, value) : value;
  }
  return out;
}

/**
 * Writes `settings.json` with Forge's keys over the file's own. A file Forge will not read (a link,
 * a FIFO, something huge) is replaced, never followed, and the log says so; a link among its
 * directories throws RefusedPathError (the CLI must not run with settings Forge could not write).
 */
export async function writeGeminiSettings(
  session: SandboxSession,
  ctx?: Pick<AgentRunContext, 'onLine'>,
): Promise<void> {
  const text = await bestEffort(
    ctx ?? { onLine: () => undefined },
    'did not read the existing Gemini CLI settings',
    undefined,
    () => readHomeFile(session, GEMINI_SETTINGS_FILE),
  );
  let existing: unknown;
  try {
    existing = text ? JSON.parse(text) : undefined;
  } catch {
    existing = undefined;
  }
  await writeHomeFile(
    session,
    GEMINI_SETTINGS_FILE,
    `${JSON.stringify(geminiSettings(existing), null, 2)}\n`,
  );
}
