// Solarized for CodeMirror through CSS variables (style.css defines them for light and dark), so one
// theme follows prefers-color-scheme without reconfiguring the editor.
import { EditorView } from '@codemirror/view';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';

const editorTheme = EditorView.theme({
  '&': { color: 'var(--fg)', backgroundColor: 'var(--bg)', height: '100%' },
  '.cm-content': { caretColor: 'var(--fg-strong)', fontFamily: 'var(--mono)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--fg-strong)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection': { backgroundColor: 'var(--bg-selection)' },
  '.cm-activeLine': { backgroundColor: 'var(--bg-highlight)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--bg-highlight)', color: 'var(--fg-strong)' },
  '.cm-gutters': { backgroundColor: 'var(--bg-highlight)', color: 'var(--fg-muted)', border: 'none' },
  '.cm-matchingBracket, &.cm-focused .cm-matchingBracket': { backgroundColor: 'var(--bg-selection)', outline: '1px solid var(--fg-muted)' },
  '.cm-tooltip': { backgroundColor: 'var(--bg-highlight)', color: 'var(--fg)', border: '1px solid var(--border)' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--red)' },
  '.cm-diagnostic-warning': { borderLeftColor: 'var(--yellow)' },
  '.cm-panels': { backgroundColor: 'var(--bg-highlight)', color: 'var(--fg)' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.5' },
});

const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.moduleKeyword, t.operatorKeyword, t.definitionKeyword, t.modifier], color: 'var(--green)' },
  { tag: [t.string, t.special(t.string), t.character], color: 'var(--cyan)' },
  { tag: [t.regexp, t.escape], color: 'var(--orange)' },
  { tag: [t.number, t.bool, t.null, t.atom], color: 'var(--magenta)' },
  { tag: [t.comment, t.lineComment, t.blockComment, t.docComment], color: 'var(--fg-muted)', fontStyle: 'italic' },
  { tag: [t.typeName, t.className, t.namespace], color: 'var(--yellow)' },
  { tag: [t.function(t.variableName), t.function(t.propertyName), t.definition(t.function(t.variableName))], color: 'var(--blue)' },
  { tag: [t.macroName, t.processingInstruction, t.meta, t.annotation], color: 'var(--orange)' },
  { tag: [t.self, t.special(t.variableName)], color: 'var(--violet)' },
  { tag: t.invalid, color: 'var(--red)' },
  { tag: t.heading, fontWeight: 'bold', color: 'var(--blue)' },
  { tag: t.emphasis, fontStyle: 'italic' },
  { tag: t.strong, fontWeight: 'bold' },
  { tag: t.link, textDecoration: 'underline' },
]);

/** The Solarized editor theme and syntax colours. */
export const solarized = [editorTheme, syntaxHighlighting(highlight)];
