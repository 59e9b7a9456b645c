namespace Sandbox.Runner.Languages;

/// <summary>
/// One language of the catalog (<c>Languages/languages.yaml</c>). Commands are argv lists run inside the
/// sandbox's work directory; placeholders: <c>{source}</c> (the source file name), <c>{memoryMb}</c>
/// (the run's memory limit in MiB, e.g. for the JVM's heap).
/// </summary>
public sealed record LanguageDefinition
{
    /// <summary>Stable id used on the command line and the wire (<c>python</c>, <c>cpp</c>, ...).</summary>
    public required string Id { get; init; }

    /// <summary>Human name with version, e.g. "Python 3".</summary>
    public required string Name { get; init; }

    /// <summary>Other names accepted for <see cref="Id"/> (e.g. <c>py</c>, <c>python3</c>).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>File extensions with the dot (e.g. <c>.py</c>), used to pick the language from a file name.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = [];

    /// <summary>LSP <c>languageId</c>s that map to this language.</summary>
    public IReadOnlyList<string> LspLanguageIds { get; init; } = [];

    /// <summary>File name the source is written to in the work directory (Java needs <c>Main.java</c>).</summary>
    public required string SourceFile { get; init; }

    /// <summary>Compile command, or empty for interpreted languages.</summary>
    public IReadOnlyList<string> Compile { get; init; } = [];

    /// <summary>Run command.</summary>
    public required IReadOnlyList<string> Run { get; init; }

    /// <summary>Files the compile step produces that the run step needs (globs on the work directory's top level); empty means everything.</summary>
    public IReadOnlyList<string> Artifacts { get; init; } = [];

    /// <summary>Line comment prefix (<c>#</c>, <c>//</c>, ...), used to find a <c>sandbox: problem=ID</c> declaration.</summary>
    public required string LineComment { get; init; }

    /// <summary>Debian packages that provide the toolchain.</summary>
    public IReadOnlyList<string> Packages { get; init; } = [];

    /// <summary>Absolute paths of binaries that must exist for the language to be offered.</summary>
    public IReadOnlyList<string> Requires { get; init; } = [];

    /// <summary>Patterns that turn compiler output and stack traces into file:line:column diagnostics.</summary>
    public IReadOnlyList<DiagnosticPattern> Diagnostics { get; init; } = [];

    /// <summary>A program that prints exactly <c>Hello, world!</c> and a newline (used by tests and the playground).</summary>
    public required string Hello { get; init; }

    /// <summary>Starter code shown by editors for a new file.</summary>
    public string? Starter { get; init; }
}

/// <summary>Where a diagnostic pattern applies.</summary>
public enum DiagnosticOrigin
{
    /// <summary>The compiler's output (or a syntax check for interpreted languages).</summary>
    Compile,
    /// <summary>The program's stderr at run time (stack traces).</summary>
    Runtime,
}

/// <summary>Severity of a diagnostic, as LSP numbers it.</summary>
public enum DiagnosticSeverity
{
    /// <summary>An error.</summary>
    Error = 1,
    /// <summary>A warning.</summary>
    Warning = 2,
    /// <summary>Information.</summary>
    Information = 3,
    /// <summary>A hint.</summary>
    Hint = 4,
}

/// <summary>
/// A regular expression over output with named groups: <c>file</c>, <c>line</c> (required),
/// <c>column</c>, <c>caret</c> (the whitespace before a <c>^</c> marker: its length + 1 is the column),
/// <c>severity</c> (text such as "error"/"warning"), <c>message</c>.
/// Multi-line patterns use <c>(?m)</c> / <c>(?s)</c> inline options.
/// With <see cref="Frame"/> set the pattern reads a stack trace: <see cref="Regex"/> matches the whole trace
/// and gives the <c>message</c>; <see cref="Frame"/> finds the frames inside it (<c>file</c>, <c>line</c>,
/// <c>column</c>), and the innermost frame in the user's file carries the diagnostic.
/// </summary>
public sealed record DiagnosticPattern
{
    /// <summary>Which output the pattern reads.</summary>
    public DiagnosticOrigin Origin { get; init; } = DiagnosticOrigin.Compile;

    /// <summary>The regular expression.</summary>
    public required string Regex { get; init; }

    /// <summary>Severity when the pattern has no <c>severity</c> group.</summary>
    public DiagnosticSeverity Severity { get; init; } = DiagnosticSeverity.Error;

    /// <summary>For a stack trace: the regular expression of one frame (named groups <c>file</c>, <c>line</c>, <c>column</c>).</summary>
    public string? Frame { get; init; }

    /// <summary>For a stack trace: whether the innermost frame is printed first (Java, Node, Go) or last (Python).</summary>
    public FrameOrder FrameOrder { get; init; } = FrameOrder.InnermostFirst;
}

/// <summary>The order in which a stack trace prints its frames.</summary>
public enum FrameOrder
{
    /// <summary>The innermost (most recent) call comes first.</summary>
    InnermostFirst,
    /// <summary>The innermost (most recent) call comes last ("most recent call last").</summary>
    InnermostLast,
}

/// <summary>A diagnostic on the user's source file (1-based line and column, as compilers print them).</summary>
public sealed record SourceDiagnostic(int Line, int? Column, DiagnosticSeverity Severity, string Message, DiagnosticOrigin Origin);

/// <summary>The catalog of languages this runner offers.</summary>
public interface ILanguageCatalog
{
    /// <summary>All languages whose toolchain is present.</summary>
    IReadOnlyList<LanguageDefinition> Available { get; }

    /// <summary>All languages in the catalog, present or not.</summary>
    IReadOnlyList<LanguageDefinition> All { get; }

    /// <summary>Finds a language by id, alias or LSP language id (case-insensitive); null when unknown.</summary>
    LanguageDefinition? Find(string idOrAlias);

    /// <summary>Finds a language by a file name's extension; null when unknown.</summary>
    LanguageDefinition? FindByFileName(string fileName);

    /// <summary>Whether the toolchain of <paramref name="language"/> (one of <see cref="All"/>) is present.</summary>
    bool IsAvailable(LanguageDefinition language) => Available.Contains(language);
}
