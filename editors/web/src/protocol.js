// Names and shapes the page exchanges with the Sandbox language server and the serve host.
// Keep in sync with src/Sandbox.Lsp (commands and notifications, see ARCHITECTURE.md "The language server")
// and src/Sandbox.Cli/Serve/ShareEndpoints.cs (share API).

/** `workspace/executeCommand` command names; arguments are one object `{ uri, language?, stdin?, problem? }`. */
export const Commands = Object.freeze({
  run: 'sandbox.run',
  check: 'sandbox.check',
  stop: 'sandbox.stop',
  listProblems: 'sandbox.listProblems',
  listLanguages: 'sandbox.listLanguages',
  problem: 'sandbox.problem',
});

/** Server-to-client notifications while a run goes on. */
export const Notifications = Object.freeze({
  /** `{ runId, uri, stream: 'stdout' | 'stderr' | 'compile', text }` */
  output: 'sandbox/output',
  /** `{ runId, uri, name, verdict, timeMs }` */
  testResult: 'sandbox/testResult',
});

/** Run verdicts (kebab-case on the wire). */
export const RunVerdicts = Object.freeze([
  'ok', 'runtime-error', 'compile-error', 'time-limit', 'memory-limit', 'output-limit', 'security-violation', 'internal-error',
]);

/** Test verdicts (kebab-case on the wire). */
export const TestVerdicts = Object.freeze([
  'accepted', 'wrong-answer', 'time-limit', 'memory-limit', 'output-limit', 'runtime-error', 'compile-error',
  'security-violation', 'internal-error',
]);

/** The share API of `sandbox serve`. */
export const ShareApi = Object.freeze({
  /** POST `{ language, source, stdin, problem?, output: [{ stream, text }] }` → 201 `{ id, url }`. */
  create: '/api/shares',
  /** GET → 200 the stored share, 404 when unknown. */
  get: (id) => `/api/shares/${encodeURIComponent(id)}`,
  /** The page route of a share. */
  page: /^\/s\/([A-Za-z0-9_-]{6,64})\/?$/,
});

/** Human words for a verdict. */
export function verdictLabel(verdict) {
  switch (verdict) {
    case 'ok': return 'OK';
    case 'accepted': return 'Accepted';
    case 'wrong-answer': return 'Wrong answer';
    case 'time-limit': return 'Time limit';
    case 'memory-limit': return 'Memory limit';
    case 'output-limit': return 'Output limit';
    case 'runtime-error': return 'Runtime error';
    case 'compile-error': return 'Compile error';
    case 'security-violation': return 'Security violation';
    case 'internal-error': return 'Internal error';
    default: return String(verdict ?? '');
  }
}
