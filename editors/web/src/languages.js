// Maps the language server's language ids to CodeMirror syntax support. Highlighting only: diagnostics
// and everything else come from the language server.
import { StreamLanguage } from '@codemirror/language';
import { python } from '@codemirror/lang-python';
import { javascript } from '@codemirror/lang-javascript';
import { cpp } from '@codemirror/lang-cpp';
import { java } from '@codemirror/lang-java';
import { rust } from '@codemirror/lang-rust';
import { php } from '@codemirror/lang-php';
import { c, csharp, kotlin, scala } from '@codemirror/legacy-modes/mode/clike';
import { go } from '@codemirror/legacy-modes/mode/go';
import { ruby } from '@codemirror/legacy-modes/mode/ruby';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import { perl } from '@codemirror/legacy-modes/mode/perl';
import { lua } from '@codemirror/legacy-modes/mode/lua';
import { haskell } from '@codemirror/legacy-modes/mode/haskell';
import { swift } from '@codemirror/legacy-modes/mode/swift';
import { pascal } from '@codemirror/legacy-modes/mode/pascal';
import { r } from '@codemirror/legacy-modes/mode/r';
import { fortran } from '@codemirror/legacy-modes/mode/fortran';
import { commonLisp } from '@codemirror/legacy-modes/mode/commonlisp';
import { scheme } from '@codemirror/legacy-modes/mode/scheme';
import { erlang } from '@codemirror/legacy-modes/mode/erlang';
import { oCaml, fSharp } from '@codemirror/legacy-modes/mode/mllike';
import { d } from '@codemirror/legacy-modes/mode/d';
import { julia } from '@codemirror/legacy-modes/mode/julia';
import { sql } from '@codemirror/legacy-modes/mode/sql';

const legacy = (mode) => () => StreamLanguage.define(mode);

const byKey = new Map([
  ['python', () => python()], ['python3', () => python()], ['py', () => python()],
  ['javascript', () => javascript()], ['js', () => javascript()], ['node', () => javascript()], ['nodejs', () => javascript()],
  ['typescript', () => javascript({ typescript: true })], ['ts', () => javascript({ typescript: true })],
  ['cpp', () => cpp()], ['c++', () => cpp()], ['cxx', () => cpp()], ['cc', () => cpp()],
  ['c', legacy(c)],
  ['java', () => java()],
  ['rust', () => rust()], ['rs', () => rust()],
  ['php', () => php({ plain: false })],
  ['csharp', legacy(csharp)], ['cs', legacy(csharp)], ['c#', legacy(csharp)],
  ['kotlin', legacy(kotlin)], ['kt', legacy(kotlin)],
  ['scala', legacy(scala)],
  ['go', legacy(go)], ['golang', legacy(go)],
  ['ruby', legacy(ruby)], ['rb', legacy(ruby)],
  ['bash', legacy(shell)], ['sh', legacy(shell)], ['shell', legacy(shell)], ['shellscript', legacy(shell)],
  ['perl', legacy(perl)], ['pl', legacy(perl)],
  ['lua', legacy(lua)],
  ['haskell', legacy(haskell)], ['hs', legacy(haskell)],
  ['swift', legacy(swift)],
  ['pascal', legacy(pascal)], ['fpc', legacy(pascal)],
  ['r', legacy(r)],
  ['fortran', legacy(fortran)],
  ['commonlisp', legacy(commonLisp)], ['lisp', legacy(commonLisp)],
  ['scheme', legacy(scheme)],
  ['erlang', legacy(erlang)],
  ['ocaml', legacy(oCaml)], ['fsharp', legacy(fSharp)],
  ['d', legacy(d)],
  ['julia', legacy(julia)],
  ['sql', legacy(sql)], ['sqlite', legacy(sql)],
]);

/** CodeMirror language support for a language of the catalog, or an empty extension when none fits. */
export function syntaxFor(language) {
  const keys = [language.id, ...(language.lspLanguageIds ?? []), ...(language.aliases ?? [])];
  for (const key of keys) {
    const make = byKey.get(String(key).toLowerCase());
    if (make) return make();
  }
  return [];
}

/** The file name the page uses for the language (the catalog's source file, else main + first extension). */
export function fileNameFor(language) {
  if (typeof language.sourceFile === 'string' && /^[\w.-]+$/.test(language.sourceFile)) return language.sourceFile;
  const ext = (language.extensions ?? [])[0];
  if (!ext) return 'main';
  return ext.startsWith('.') ? `main${ext}` : `main.${ext}`;
}

/** The LSP language id to announce in didOpen. */
export function lspLanguageIdFor(language) {
  return (language.lspLanguageIds ?? [])[0] ?? language.id;
}
