// The Sandbox language server's custom protocol, as the extension sees it.
//
// Keep in sync with src/Sandbox.Lsp/Protocol/LspMethods.cs (command and notification names, argument and
// notification records, error codes), src/Sandbox.Lsp/Features/Configuration/SandboxSettings.cs (settings) and
// ARCHITECTURE.md "The language server". Result shapes are the `sandbox run --json` / `sandbox check --json`
// objects; records are camelCase JSON and verdicts kebab-case strings.

/** `workspace/executeCommand` command names the server offers. */
export const ServerCommands = {
  run: 'sandbox.run',
  check: 'sandbox.check',
  stop: 'sandbox.stop',
  listProblems: 'sandbox.listProblems',
  listLanguages: 'sandbox.listLanguages',
  problem: 'sandbox.problem',
} as const;

export type ServerCommand = (typeof ServerCommands)[keyof typeof ServerCommands];

/** Server → client notifications sent while a run or check goes on. */
export const ServerNotifications = {
  output: 'sandbox/output',
  testResult: 'sandbox/testResult',
} as const;

/** The single argument object of every `sandbox.*` command; the program text comes from the synced document. */
export interface CommandArgs {
  uri?: string;
  language?: string;
  /** Standard input text for `sandbox.run`. */
  stdin?: string;
  /** Problem id for `sandbox.check` and `sandbox.problem`. */
  problem?: string;
}

export type RunVerdict =
  | 'ok'
  | 'runtime-error'
  | 'compile-error'
  | 'time-limit'
  | 'memory-limit'
  | 'output-limit'
  | 'security-violation'
  | 'internal-error';

export type TestVerdict =
  | 'accepted'
  | 'wrong-answer'
  | 'time-limit'
  | 'memory-limit'
  | 'output-limit'
  | 'runtime-error'
  | 'compile-error'
  | 'security-violation'
  | 'internal-error';

/** Result of `sandbox.run`. */
export interface RunResult {
  verdict: RunVerdict;
  exitCode?: number | null;
  signal?: number | string | null;
  stdout?: string | null;
  stderr?: string | null;
  compileOutput?: string | null;
  cpuTimeMs?: number | null;
  wallTimeMs?: number | null;
  memoryKb?: number | null;
  outputTruncated?: boolean | null;
}

/** One test of a check. */
export interface CheckTest {
  name: string;
  sample: boolean;
  verdict: TestVerdict;
  timeMs?: number | null;
  memoryKb?: number | null;
}

/** Result of `sandbox.check`. */
export interface CheckResult {
  verdict: TestVerdict;
  passed: number;
  total: number;
  compileOutput?: string | null;
  tests: CheckTest[];
}

/** One problem in `sandbox.listProblems`. */
export interface ProblemSummary {
  id: string;
  title: string;
  /** Number of public samples. */
  samples: number;
  /** Number of tests, samples included. */
  tests: number;
}

export interface ProblemsResult {
  problems: ProblemSummary[];
}

export interface LanguageInfo {
  id: string;
  name: string;
  aliases?: string[];
  extensions?: string[];
  lspLanguageIds?: string[];
  lineComment?: string;
}

export interface LanguagesResult {
  languages: LanguageInfo[];
}

export interface ProblemSample {
  name: string;
  input: string;
  output: string;
}

/** Result of `sandbox.problem`: statement, limits and public samples, never hidden tests' data. */
export interface ProblemInfo {
  id: string;
  title: string;
  statementMarkdown: string;
  timeLimitSeconds: number;
  memoryLimitMb: number;
  samples: ProblemSample[];
  hiddenTests: number;
}

/** `sandbox/output` params. */
export interface OutputParams {
  runId: string;
  uri: string;
  /** `stdout`, `stderr` or `compile`. */
  stream: string;
  text: string;
}

/** `sandbox/testResult` params. */
export interface TestResultParams {
  runId: string;
  uri: string;
  name: string;
  verdict: TestVerdict;
  timeMs?: number | null;
}

/**
 * The `settings` of `workspace/didChangeConfiguration` (and the `initializationOptions`):
 * `{ sandbox: { runner: { url }, runnerUrl, token, limits: { timeLimitSeconds, memoryLimitMb }, trace } }`.
 * The runner URL goes both as `runner.url` (the shape of the VS Code setting) and as `runnerUrl`
 * (the flat name Sandbox.Lsp's SandboxSettings reads).
 */
export interface ServerSettings {
  sandbox: {
    runner: { url?: string };
    runnerUrl?: string;
    token?: string;
    limits: { timeLimitSeconds?: number; memoryLimitMb?: number };
    trace: TraceLevel;
  };
}

export type TraceLevel = 'off' | 'messages' | 'verbose';

/** Error codes of Sandbox.Lsp's responses (LspErrorCode in src/Sandbox.Lsp/Protocol/LspMethods.cs). */
export const ServerErrorCodes = {
  requestCancelled: -32800,
  unknownDocument: 1,
  unknownLanguage: 2,
  runnerUnavailable: 3,
  noProblem: 4,
  runnerRefused: 5,
} as const;
