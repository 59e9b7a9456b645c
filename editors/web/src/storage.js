// The page's memory across reloads and crashes: last language, per-language program, stdin and problem.
const key = 'sandbox.playground.v1';

/** Reads the saved state; a missing or damaged entry gives an empty state. */
export function loadState() {
  try {
    const raw = localStorage.getItem(key);
    const parsed = raw ? JSON.parse(raw) : null;
    if (parsed && typeof parsed === 'object') {
      return {
        language: typeof parsed.language === 'string' ? parsed.language : null,
        programs: parsed.programs && typeof parsed.programs === 'object' ? parsed.programs : {},
        stdin: typeof parsed.stdin === 'string' ? parsed.stdin : '',
        problem: typeof parsed.problem === 'string' ? parsed.problem : '',
      };
    }
  } catch {
    // Private mode or a damaged entry: start afresh.
  }
  return { language: null, programs: {}, stdin: '', problem: '' };
}

/** Writes the state; storage that is full or refused is not an error the user must see. */
export function saveState(state) {
  try {
    localStorage.setItem(key, JSON.stringify(state));
    return true;
  } catch {
    return false;
  }
}
