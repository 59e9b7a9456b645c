// Pure parsing of standard input typed into a one-line input box.

/**
 * The input box has one line, so `\n` stands for a new line and `\t` for a tab (`\\` for a
 * backslash). A trailing new line is added so line-reading programs see a complete last line.
 */
export function parseTypedInput(typed: string): string {
  const text = typed.replace(/\\(\\|n|t)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
  return text.endsWith('\n') || text === '' ? text : `${text}\n`;
}
