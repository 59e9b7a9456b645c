// Pure configuration logic: no `vscode` import, so node's test runner can load it.
import * as path from 'node:path';
import type { ServerSettings, TraceLevel } from './protocol';

/** Language ids whose documents are synced to the language server. */
export const DOCUMENT_LANGUAGES: readonly string[] = [
  'python', 'c', 'cpp', 'java', 'javascript', 'typescript', 'go', 'rust', 'csharp',
  'ruby', 'perl', 'shellscript', 'php', 'haskell', 'kotlin', 'lua',
];

/** The extension's settings as read from the `sandbox` configuration section. */
export interface ExtensionSettings {
  runnerUrl: string;
  timeLimitSeconds: number | null | undefined;
  memoryLimitMb: number | null | undefined;
  trace: string | undefined;
  serverPath: string;
}

/** A `get(key)` view of a configuration section (VS Code's WorkspaceConfiguration fits). */
export interface SettingsSource {
  get<T>(key: string): T | undefined;
}

export function readSettings(section: SettingsSource): ExtensionSettings {
  return {
    runnerUrl: (section.get<string>('runner.url') ?? '').trim(),
    timeLimitSeconds: section.get<number | null>('limits.timeLimitSeconds'),
    memoryLimitMb: section.get<number | null>('limits.memoryLimitMb'),
    trace: section.get<string>('trace.server'),
    serverPath: (section.get<string>('server.path') ?? '').trim(),
  };
}

export function traceLevel(value: string | undefined): TraceLevel {
  return value === 'messages' || value === 'verbose' ? value : 'off';
}

function positive(value: number | null | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * The settings object the language server receives in `workspace/didChangeConfiguration` and
 * `initializationOptions`. Unset values are left out so the server keeps its defaults; the token
 * comes from secret storage, never from a plain setting.
 */
export function toServerSettings(settings: ExtensionSettings, token: string | undefined): ServerSettings {
  const runner: { url?: string } = {};
  if (settings.runnerUrl) {
    runner.url = settings.runnerUrl;
  }
  const limits: { timeLimitSeconds?: number; memoryLimitMb?: number } = {};
  const time = positive(settings.timeLimitSeconds);
  if (time !== undefined) {
    limits.timeLimitSeconds = time;
  }
  const memory = positive(settings.memoryLimitMb);
  if (memory !== undefined) {
    limits.memoryLimitMb = Math.round(memory);
  }
  const sandbox: ServerSettings['sandbox'] = { runner, limits, trace: traceLevel(settings.trace) };
  if (runner.url) {
    sandbox.runnerUrl = runner.url;
  }
  if (token) {
    sandbox.token = token;
  }
  return { sandbox };
}

/** Where the server binary came from, for messages that tell the user what to fix. */
export type ServerSource = 'setting' | 'bundled' | 'path';

export type ServerResolution =
  | { found: true; command: string; source: ServerSource }
  | { found: false; source: ServerSource; tried: string };

/** File-system questions `resolveServerCommand` asks; injected so tests need no real files. */
export interface Probe {
  isExecutable(file: string): boolean;
}

/**
 * Picks the `sandbox` executable: the `sandbox.server.path` setting when set (and then only it, so a
 * typo is reported rather than silently replaced), else the copy bundled in the extension, else
 * `sandbox` on PATH.
 */
export function resolveServerCommand(
  settingPath: string,
  bundledPath: string,
  pathEnv: string | undefined,
  probe: Probe,
  executableName = 'sandbox',
): ServerResolution {
  if (settingPath) {
    return probe.isExecutable(settingPath)
      ? { found: true, command: settingPath, source: 'setting' }
      : { found: false, source: 'setting', tried: settingPath };
  }
  if (probe.isExecutable(bundledPath)) {
    return { found: true, command: bundledPath, source: 'bundled' };
  }
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    const candidate = path.join(dir, executableName);
    if (probe.isExecutable(candidate)) {
      return { found: true, command: candidate, source: 'path' };
    }
  }
  return { found: false, source: 'path', tried: executableName };
}

/** Arguments that start the language server over stdio. */
export const SERVER_ARGS: readonly string[] = ['lsp', '--stdio'];
