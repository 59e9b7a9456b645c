using Sandbox.Runner.Languages;
using static Sandbox.Runner.Languages.DiagnosticOrigin;
using static Sandbox.Runner.Languages.DiagnosticSeverity;

namespace Sandbox.Runner.Tests.Languages;

/// <summary>
/// The catalog's patterns read what the real toolchains printed (Languages/CapturedOutput.cs, written by
/// Languages/Captures/capture.py from the cases beside it). Line numbers refer to those case files.
/// </summary>
public sealed class DiagnosticParserTests
{
    private static readonly LanguageCatalog Catalog = LanguageCatalog.LoadDefault();

    private static void Expect(string language, string output, DiagnosticOrigin origin, params SourceDiagnostic[] expected)
    {
        var actual = DiagnosticParser.Parse(Catalog.Find(language)!, output, origin);
        Assert.Equal(expected, actual);
    }

    private static SourceDiagnostic D(int line, int? column, DiagnosticSeverity severity, string message, DiagnosticOrigin origin) =>
        new(line, column, severity, message, origin);

    // ---- Python

    [Fact]
    public void Python_SyntaxError_FromTheCheck_IsOnItsLine() =>
        Expect("python", CapturedOutput.PythonSyntaxCompile, Compile, D(2, null, Error, "SyntaxError: '[' was never closed", Compile));

    [Fact]
    public void Python_IndentationError_IsOnItsLine() =>
        Expect("python", CapturedOutput.PythonIndentCompile, Compile, D(3, null, Error, "IndentationError: unexpected indent", Compile));

    [Fact]
    public void Python_SyntaxWarning_IsAWarning() =>
        Expect("python", CapturedOutput.PythonWarningCompile, Compile,
            D(2, null, Warning, "SyntaxWarning: \"is\" with a literal. Did you mean \"==\"?", Compile));

    [Fact]
    public void Python_Traceback_PointsAtTheDeepestFrameInTheFile() =>
        Expect("python", CapturedOutput.PythonRuntimeRun, Runtime, D(2, null, Error, "ZeroDivisionError: division by zero", Runtime));

    [Fact]
    public void Python_Traceback_IntoTheStandardLibrary_PointsAtTheUsersCall() =>
        Expect("python", CapturedOutput.PythonLibraryRun, Runtime,
            D(3, null, Error, "json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)", Runtime));

    [Fact]
    public void Python_TracebackOfAnotherFile_GivesNothing() =>
        Expect("python", CapturedOutput.PythonRenamedRun, Runtime);

    // ---- C

    [Fact]
    public void C_Errors_WarningsAndNotes_KeepLineColumnAndSeverity() =>
        Expect("c", CapturedOutput.CCompileCompile, Compile,
            D(5, 5, Error, "expected ‘,’ or ‘;’ before ‘printf’", Compile),
            D(6, 12, Error, "‘undefined_name’ undeclared (first use in this function)", Compile),
            D(6, 12, Information, "each undeclared identifier is reported only once for each function it appears in", Compile),
            D(4, 9, Warning, "unused variable ‘x’ [-Wunused-variable]", Compile));

    [Fact]
    public void C_Warning_IsAWarning() =>
        Expect("c", CapturedOutput.CWarningCompile, Compile, D(4, 9, Warning, "unused variable ‘unused’ [-Wunused-variable]", Compile));

    [Fact]
    public void C_NoteInASystemHeader_GivesNothingOnTheDocument() =>
        Expect("c", CapturedOutput.CHeaderCompile, Compile,
            D(6, 17, Warning, "passing argument 2 of ‘strcpy’ makes pointer from integer without a cast [-Wint-conversion]", Compile),
            D(6, 5, Warning, "‘strcpy’ offset 0 is out of the bounds [0, 0] [-Warray-bounds]", Compile));

    [Fact]
    public void C_LinkerError_NamesNoLine_GivesNothing() =>
        Expect("c", CapturedOutput.CLinkCompile, Compile);

    [Fact]
    public void C_FailedAssert_IsOnTheAssertLine() =>
        Expect("c", CapturedOutput.CRuntimeRun, Runtime, D(6, null, Error, "Assertion `n > 0' failed.", Runtime));

    [Fact]
    public void C_FailedAssertInAnotherFile_GivesNothing() =>
        Expect("c", CapturedOutput.CRenamedRun, Runtime);

    // ---- C++

    [Fact]
    public void Cpp_Error_KeepsLineAndColumn() =>
        Expect("cpp", CapturedOutput.CppCompileCompile, Compile, D(6, 39, Error, "expected ‘;’ before ‘std’", Compile));

    [Fact]
    public void Cpp_Warnings_AreWarnings() =>
        Expect("cpp", CapturedOutput.CppWarningCompile, Compile,
            D(5, 23, Warning, "comparison of integer expressions of different signedness: ‘int’ and ‘unsigned int’ [-Wsign-compare]", Compile),
            D(8, 9, Warning, "unused variable ‘unused’ [-Wunused-variable]", Compile));

    [Fact]
    public void Cpp_ErrorInsideAStandardHeader_PointsAtTheUsersLineOnly()
    {
        var diagnostics = DiagnosticParser.Parse(Catalog.Find("cpp")!, CapturedOutput.CppTemplateCompile, Compile);
        Assert.Equal([D(8, 12, Error, "no match for ‘operator<’ (operand types are ‘const Key’ and ‘const Key’)", Compile)], diagnostics);
    }

    [Fact]
    public void Cpp_FailedAssert_IsOnTheAssertLine() =>
        Expect("cpp", CapturedOutput.CppRuntimeRun, Runtime,
            D(5, null, Error, "Assertion `!v.empty() && \"vector must not be empty\"' failed.", Runtime));

    [Fact]
    public void Cpp_UncaughtExceptionWithoutLocation_GivesNothing() =>
        Expect("cpp", CapturedOutput.CppUncaughtRun, Runtime);

    [Fact]
    public void Cpp_FailedAssertInAnotherFile_GivesNothing() =>
        Expect("cpp", CapturedOutput.CppRenamedRun, Runtime);

    // ---- Java

    [Fact]
    public void Java_ParseError_TakesTheColumnFromTheCaret() =>
        Expect("java", CapturedOutput.JavaCompileCompile, Compile, D(4, 30, Error, "';' expected", Compile));

    [Fact]
    public void Java_CannotFindSymbol_TakesTheColumnFromTheCaret() =>
        Expect("java", CapturedOutput.JavaSymbolCompile, Compile, D(7, 28, Error, "cannot find symbol", Compile));

    [Fact]
    public void Java_LintWarnings_AreWarnings() =>
        Expect("java", CapturedOutput.JavaWarningCompile, Compile,
            D(5, 9, Warning, "[rawtypes] found raw type: List", Compile),
            D(5, 25, Warning, "[rawtypes] found raw type: ArrayList", Compile),
            D(6, 17, Warning, "[unchecked] unchecked call to add(E) as a member of the raw type List", Compile),
            D(7, 21, Warning, "[removal] Integer(int) in Integer has been deprecated and marked for removal", Compile));

    [Fact]
    public void Java_Exception_PointsAtTheInnermostFrameInMain() =>
        Expect("java", CapturedOutput.JavaRuntimeRun, Runtime, D(3, null, Error, "java.lang.ArithmeticException: / by zero", Runtime));

    [Fact]
    public void Java_ExceptionFromTheJdk_SkipsTheJdkFrames() =>
        Expect("java", CapturedOutput.JavaLibraryRun, Runtime,
            D(3, null, Error, "java.lang.NumberFormatException: For input string: \"abc\"", Runtime));

    [Fact]
    public void Java_ExceptionWithCause_PointsAtWhereTheOuterOneWasThrown() =>
        Expect("java", CapturedOutput.JavaCausedRun, Runtime, D(10, null, Error, "java.lang.RuntimeException: outer wrapper", Runtime));

    [Fact]
    public void Java_ExceptionInAnotherClassFile_GivesNothing() =>
        Expect("java", CapturedOutput.JavaRenamedRun, Runtime);

    // ---- JavaScript

    [Fact]
    public void JavaScript_SyntaxError_TakesTheColumnFromTheCaret() =>
        Expect("javascript", CapturedOutput.JavascriptSyntaxRun, Runtime, D(2, 21, Error, "SyntaxError: Unexpected token ';'", Runtime));

    [Fact]
    public void JavaScript_TypeError_IsReportedOnce() =>
        Expect("javascript", CapturedOutput.JavascriptRuntimeRun, Runtime,
            D(2, 34, Error, "TypeError: Cannot read properties of undefined (reading 'toUpperCase')", Runtime));

    [Fact]
    public void JavaScript_ThrownError_IsOnTheThrowLine() =>
        Expect("javascript", CapturedOutput.JavascriptThrownRun, Runtime, D(3, 5, Error, "Error: negative input: -1", Runtime));

    [Fact]
    public void JavaScript_ErrorInsideJsonParse_PointsAtTheUsersFrame() =>
        Expect("javascript", CapturedOutput.JavascriptLibraryRun, Runtime,
            D(1, 19, Error, "SyntaxError: Expected property name or '}' in JSON at position 1", Runtime));

    [Fact]
    public void JavaScript_DeprecationWarning_PointsAtTheUsersFrame() =>
        Expect("javascript", CapturedOutput.JavascriptWarningRun, Runtime,
            D(1, 13, Warning, "DeprecationWarning: Buffer() is deprecated due to security and usability issues. Please use the Buffer.alloc(), Buffer.allocUnsafe(), or Buffer.from() methods instead.", Runtime));

    [Fact]
    public void JavaScript_ErrorInAnotherFile_GivesNothing() =>
        Expect("javascript", CapturedOutput.JavascriptRenamedRun, Runtime);

    // ---- Bash

    [Fact]
    public void Bash_SyntaxError_IsReportedOnceOnItsLine() =>
        Expect("bash", CapturedOutput.BashSyntaxCompile, Compile, D(4, null, Error, "syntax error near unexpected token `fi'", Compile));

    [Fact]
    public void Bash_UnterminatedQuote_IsOnTheLineBashNames() =>
        Expect("bash", CapturedOutput.BashUnterminatedCompile, Compile, D(1, null, Error, "unexpected EOF while looking for matching `\"'", Compile));

    [Fact]
    public void Bash_RuntimeErrors_AreOnTheirLines() =>
        Expect("bash", CapturedOutput.BashRuntimeRun, Runtime,
            D(2, null, Error, "nosuchcommand: command not found", Runtime),
            D(3, null, Error, "1 / 0: division by 0 (error token is \"0\")", Runtime));

    [Fact]
    public void Bash_ErrorsOfAnotherScript_GiveNothing() =>
        Expect("bash", CapturedOutput.BashRenamedRun, Runtime);

    // ---- Perl

    [Fact]
    public void Perl_SyntaxError_IsOnItsLine() =>
        Expect("perl", CapturedOutput.PerlSyntaxRun, Runtime, D(5, null, Error, "syntax error", Runtime));

    [Fact]
    public void Perl_StrictErrors_AreOnTheirLines_WithoutTheAbortLine() =>
        Expect("perl", CapturedOutput.PerlStrictRun, Runtime,
            D(4, null, Error, "Global symbol \"$y\" requires explicit package name (did you forget to declare \"my $y\"?)", Runtime),
            D(5, null, Error, "Global symbol \"$y\" requires explicit package name (did you forget to declare \"my $y\"?)", Runtime));

    [Fact]
    public void Perl_Die_IsOnTheDieLine() =>
        Expect("perl", CapturedOutput.PerlRuntimeRun, Runtime, D(7, null, Error, "zero input", Runtime));

    [Fact]
    public void Perl_WarningThenDeath_AreAWarningAndAnError() =>
        Expect("perl", CapturedOutput.PerlWarningRun, Runtime,
            D(5, null, Warning, "Use of uninitialized value $name in concatenation (.) or string", Runtime),
            D(6, null, Error, "Illegal division by zero", Runtime));

    [Fact]
    public void Perl_ConfessTrace_IsOnTheInnermostLineOnly() =>
        Expect("perl", CapturedOutput.PerlCarpRun, Runtime, D(6, null, Error, "inner failed", Runtime));

    [Fact]
    public void Perl_ModuleCroak_IsOnTheUsersLineNotTheModules() =>
        Expect("perl", CapturedOutput.PerlLibraryRun, Runtime,
            D(5, null, Error, "Storable binary image v55.111 more recent than I am (v2.11) at /usr/lib/x86_64-linux-gnu/perl/5.36/Storable.pm line 471", Runtime));

    [Fact]
    public void Perl_DieInAnotherFile_GivesNothing() =>
        Expect("perl", CapturedOutput.PerlRenamedRun, Runtime);

    // ---- Ruby

    [Fact]
    public void Ruby_SyntaxError_IsOnItsLine() =>
        Expect("ruby", CapturedOutput.RubySyntaxRun, Runtime,
            D(3, null, Error, "syntax error, unexpected local variable or method, expecting ']'", Runtime));

    [Fact]
    public void Ruby_MissingEnd_IsOnTheLastLine() =>
        Expect("ruby", CapturedOutput.RubySyntax2Run, Runtime, D(4, null, Error, "syntax error, unexpected end-of-input, expecting `end'", Runtime));

    [Fact]
    public void Ruby_Warning_IsAWarning() =>
        Expect("ruby", CapturedOutput.RubyWarningRun, Runtime, D(2, null, Warning, "key :size is duplicated and overwritten on line 2", Runtime));

    [Fact]
    public void Ruby_Exception_PointsAtTheInnermostFrame() =>
        Expect("ruby", CapturedOutput.RubyRuntimeRun, Runtime, D(2, null, Error, "divided by 0 (ZeroDivisionError)", Runtime));

    [Fact]
    public void Ruby_ExceptionInTheStandardLibrary_PointsAtTheUsersCall() =>
        Expect("ruby", CapturedOutput.RubyLibraryRun, Runtime, D(3, null, Error, "859: unexpected token at '{bad json' (JSON::ParserError)", Runtime));

    [Fact]
    public void Ruby_NameErrorWithHighlightAndSuggestion_IsOnItsLine() =>
        Expect("ruby", CapturedOutput.RubyNameerrorRun, Runtime,
            D(2, null, Error, "undefined local variable or method `nme' for main:Object (NameError)", Runtime));

    [Fact]
    public void Ruby_ExceptionInAnotherFile_GivesNothing() =>
        Expect("ruby", CapturedOutput.RubyRenamedRun, Runtime);

    // ---- Go

    [Fact]
    public void Go_BuildErrors_KeepLineAndColumn() =>
        Expect("go", CapturedOutput.GoCompileCompile, Compile,
            D(5, 2, Error, "imported and not used: \"os\"", Compile),
            D(9, 2, Error, "x declared but not used", Compile),
            D(10, 14, Error, "undefined: y", Compile));

    [Fact]
    public void Go_SyntaxError_KeepsLineAndColumn() =>
        Expect("go", CapturedOutput.GoSyntaxCompile, Compile,
            D(6, 17, Error, "syntax error: unexpected newline in argument list; possibly missing comma or )", Compile));

    [Fact]
    public void Go_RuntimePanic_PointsAtTheInnermostFrame() =>
        Expect("go", CapturedOutput.GoRuntimeRun, Runtime, D(6, null, Error, "runtime error: index out of range [5] with length 3", Runtime));

    [Fact]
    public void Go_Panic_IsOnThePanicLine() =>
        Expect("go", CapturedOutput.GoPanicRun, Runtime, D(6, null, Error, "something failed", Runtime));

    [Fact]
    public void Go_PanicInTheStandardLibrary_PointsAtTheUsersCall() =>
        Expect("go", CapturedOutput.GoLibraryRun, Runtime, D(10, null, Error, "strings: negative Repeat count", Runtime));

    [Fact]
    public void Go_Deadlock_IsOnTheBlockedLine() =>
        Expect("go", CapturedOutput.GoDeadlockRun, Runtime, D(5, null, Error, "all goroutines are asleep - deadlock!", Runtime));

    [Fact]
    public void Go_NilDereference_IsOnItsLine() =>
        Expect("go", CapturedOutput.GoNilpointerRun, Runtime,
            D(7, null, Error, "runtime error: invalid memory address or nil pointer dereference", Runtime));

    [Fact]
    public void Go_PanicInAnotherFile_GivesNothing() =>
        Expect("go", CapturedOutput.GoRenamedRun, Runtime);

    // ---- Rust

    [Fact]
    public void Rust_Errors_KeepLineAndColumn() =>
        Expect("rust", CapturedOutput.RustCompileCompile, Compile,
            D(3, 20, Error, "cannot find value `y` in this scope", Compile),
            D(2, 18, Error, "mismatched types", Compile));

    [Fact]
    public void Rust_Warnings_AreWarnings() =>
        Expect("rust", CapturedOutput.RustWarningCompile, Compile,
            D(2, 9, Warning, "unused variable: `unused`", Compile),
            D(3, 13, Warning, "unused variable: `v`", Compile),
            D(3, 9, Warning, "variable does not need to be mutable", Compile));

    [Fact]
    public void Rust_IndexPanic_KeepsLineAndColumn() =>
        Expect("rust", CapturedOutput.RustRuntimeRun, Runtime,
            D(2, 5, Error, "index out of bounds: the len is 3 but the index is 10", Runtime));

    [Fact]
    public void Rust_ExplicitPanic_KeepsLineAndColumn() =>
        Expect("rust", CapturedOutput.RustPanicRun, Runtime, D(4, 9, Error, "n too large: 3", Runtime));

    [Fact]
    public void Rust_UnwrapPanic_PointsAtTheUnwrap() =>
        Expect("rust", CapturedOutput.RustUnwrapRun, Runtime,
            D(2, 32, Error, "called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }", Runtime));

    [Fact]
    public void Rust_PanicInsideTheStandardLibrary_GivesNothing() =>
        Expect("rust", CapturedOutput.RustLibraryRun, Runtime);

    [Fact]
    public void Rust_PanicInAnotherFile_GivesNothing() =>
        Expect("rust", CapturedOutput.RustRenamedRun, Runtime);

    [Fact]
    public void Rust_PanicInTheNewerFormat_KeepsLineAndColumn()
    {
        // rustc 1.73 and later print the location first and the message on the next line (not capturable with
        // this machine's rustc 1.63, so written from the format in the Rust release notes).
        const string output = "thread 'main' panicked at main.rs:7:5:\nindex out of bounds: the len is 3 but the index is 10\n"
            + "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        Expect("rust", output, Runtime, D(7, 5, Error, "index out of bounds: the len is 3 but the index is 10", Runtime));
    }

    // ---- PHP

    [Fact]
    public void Php_ParseError_IsOnItsLine() =>
        Expect("php", CapturedOutput.PhpSyntaxRun, Runtime, D(3, null, Error, "syntax error, unexpected token \"echo\"", Runtime));

    [Fact]
    public void Php_Warnings_AreWarnings() =>
        Expect("php", CapturedOutput.PhpWarningRun, Runtime,
            D(2, null, Warning, "Undefined variable $undefined", Runtime),
            D(4, null, Warning, "Undefined array key 5", Runtime));

    [Fact]
    public void Php_Deprecation_IsInformation() =>
        Expect("php", CapturedOutput.PhpDeprecatedRun, Runtime,
            D(2, null, Information, "Optional parameter $a declared before required parameter $b is implicitly treated as a required parameter", Runtime));

    [Fact]
    public void Php_UncaughtError_IsReportedOnceWhereItWasThrown() =>
        Expect("php", CapturedOutput.PhpRuntimeRun, Runtime, D(3, null, Error, "DivisionByZeroError: Division by zero", Runtime));

    [Fact]
    public void Php_UncaughtException_IsOnTheThrowLine() =>
        Expect("php", CapturedOutput.PhpExceptionRun, Runtime, D(4, null, Error, "InvalidArgumentException: negative input: -1", Runtime));

    [Fact]
    public void Php_ErrorInAnotherFile_GivesNothing() =>
        Expect("php", CapturedOutput.PhpRenamedRun, Runtime);

    // ---- Independent of the language

    [Fact]
    public void Parse_OnlyAppliesPatternsOfTheGivenOrigin() =>
        Expect("c", CapturedOutput.CCompileCompile, Runtime);

    [Fact]
    public void Parse_EmptyOutput_GivesNothing() =>
        Expect("python", "", Runtime);

    [Fact]
    public void Parse_CrLfLineEnds_AreRead() =>
        Expect("python", CapturedOutput.PythonRuntimeRun.Replace("\n", "\r\n", StringComparison.Ordinal), Runtime,
            D(2, null, Error, "ZeroDivisionError: division by zero", Runtime));

    [Fact]
    public void Parse_AnExplicitSourceFileName_IsTheFileThatCounts() =>
        Assert.Equal(
            [D(2, null, Error, "ZeroDivisionError: division by zero", Runtime)],
            DiagnosticParser.Parse(Catalog.Find("python")!, CapturedOutput.PythonRenamedRun, Runtime, "other.py"));

    [Fact]
    public void Parse_HugeHostileOutput_FinishesQuickly()
    {
        // A program controls its stderr: many near-matches must not make the patterns crawl.
        var hostile = string.Concat(Enumerable.Repeat("main.c:1:1: error " + new string(' ', 200) + "\n", 20_000))
            + string.Concat(Enumerable.Repeat("Traceback (most recent call last):\n" + new string(' ', 5000), 200));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        foreach (var language in Catalog.All)
        {
            DiagnosticParser.Parse(language, hostile, Compile);
            DiagnosticParser.Parse(language, hostile, Runtime);
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    [Theory]
    [InlineData("main.py", true)]
    [InlineData("./main.py", true)]
    [InlineData("/work/main.py", true)]
    [InlineData("/box/work/main.py", true)]
    [InlineData("././main.py", true)]
    [InlineData("/main.py", false)]
    [InlineData("/tmp/main.py", false)]
    [InlineData("other.py", false)]
    [InlineData("/usr/lib/python3.11/unittest/main.py", false)]
    [InlineData("library/core/src/main.py", false)]
    [InlineData("/work/sub/main.py", false)]
    [InlineData("MAIN.py", false)]
    public void IsSourceFile_MatchesTheFileInTheWorkDirectoryOnly(string printed, bool expected) =>
        Assert.Equal(expected, DiagnosticParser.IsSourceFile(printed, "main.py"));

    [Theory]
    [InlineData("error", Error)]
    [InlineData("fatal error", Error)]
    [InlineData("Parse error", Error)]
    [InlineData("warning", Warning)]
    [InlineData("Warning", Warning)]
    [InlineData("note", Information)]
    [InlineData("Notice", Information)]
    [InlineData("Deprecated", Information)]
    [InlineData("help", Hint)]
    public void SeverityFromText_MapsToolWords(string text, DiagnosticSeverity expected) =>
        Assert.Equal(expected, DiagnosticParser.SeverityFromText(text));
}
