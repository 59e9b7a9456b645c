using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Sandbox.Runner.Languages;

/// <summary>
/// Turns compiler output and runtime stack traces into diagnostics on the user's source file, using the
/// patterns of the language in the catalog. Only locations in the user's file count: output that names
/// other files (library frames, system headers, another program) gives nothing on this document.
/// </summary>
public static class DiagnosticParser
{
    /// <summary>
    /// The directories the source file lives in while it compiles and runs, as tools print them: the sandbox's
    /// <c>/work</c> and the engine's real directory behind it (<c>/work</c> links to <c>/box/work</c>, and
    /// runtimes that resolve their script's path print the real one).
    /// </summary>
    public static IReadOnlyList<string> WorkDirectories { get; } = ["/work", "/box/work"];

    // Program output is untrusted: bound the text read and the time any pattern may take on it.
    private const int MaxScannedChars = 256 * 1024;
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);
    private static readonly ConcurrentDictionary<string, Regex> Cache = new(StringComparer.Ordinal);

    /// <summary>Reads the diagnostics for the language's source file out of one step's output.</summary>
    /// <param name="language">The language whose patterns apply.</param>
    /// <param name="output">The compiler's output (compile) or the program's stderr (runtime).</param>
    /// <param name="origin">Which step printed <paramref name="output"/>.</param>
    /// <param name="sourceFile">The source file name as the tools saw it; the language's <see cref="LanguageDefinition.SourceFile"/> when null.</param>
    /// <returns>Diagnostics in the order the output printed them, without duplicates.</returns>
    public static IReadOnlyList<SourceDiagnostic> Parse(LanguageDefinition language, string output, DiagnosticOrigin origin, string? sourceFile = null)
    {
        if (string.IsNullOrEmpty(output))
        {
            return [];
        }

        var fileName = Path.GetFileName(sourceFile ?? language.SourceFile);
        var text = Bound(output.Replace("\r\n", "\n", StringComparison.Ordinal));
        var found = new List<(int Position, SourceDiagnostic Diagnostic)>();
        var claimed = new List<(int Start, int End)>();

        foreach (var pattern in language.Diagnostics)
        {
            if (pattern.Origin != origin)
            {
                continue;
            }

            try
            {
                foreach (Match match in GetRegex(pattern.Regex).Matches(text))
                {
                    var end = match.Index + match.Length;
                    // A match over text an earlier pattern already turned into a diagnostic says the same thing
                    // again (Node prints an error's location both above the message and in the stack).
                    if (claimed.Any(span => match.Index < span.End && span.Start < end))
                    {
                        continue;
                    }

                    var diagnostic = pattern.Frame is null
                        ? FromLocation(match, pattern, fileName, origin)
                        : FromStackTrace(match, pattern, fileName, origin);
                    if (diagnostic is not null)
                    {
                        found.Add((match.Index, diagnostic));
                        claimed.Add((match.Index, Math.Max(end, match.Index + 1)));
                    }
                }
            }
            catch (RegexMatchTimeoutException)
            {
                // Output built to make a pattern backtrack: no diagnostics from this pattern.
            }
        }

        return found.OrderBy(entry => entry.Position).Select(entry => entry.Diagnostic).Distinct().ToList();
    }

    /// <summary>Whether a path printed by a tool names the source file in the work directory (<c>main.c</c>, <c>./main.go</c>, <c>/work/main.py</c>, <c>/box/work/main.js</c>).</summary>
    public static bool IsSourceFile(string printedPath, string sourceFileName)
    {
        var path = printedPath.Trim();
        while (path.StartsWith("./", StringComparison.Ordinal))
        {
            path = path[2..];
        }

        var slash = path.LastIndexOf('/');
        if (slash >= 0)
        {
            var directory = slash == 0 ? "/" : path[..slash];
            if (!WorkDirectories.Contains(directory, StringComparer.Ordinal))
            {
                return false;
            }

            path = path[(slash + 1)..];
        }

        return string.Equals(path, sourceFileName, StringComparison.Ordinal);
    }

    /// <summary>Maps a tool's severity word (error, fatal error, warning, note, notice, deprecated, help...) to a severity; null when unknown.</summary>
    public static DiagnosticSeverity? SeverityFromText(string text)
    {
        var word = text.Trim().ToLowerInvariant();
        if (word.Contains("error", StringComparison.Ordinal) || word.Contains("fatal", StringComparison.Ordinal))
        {
            return DiagnosticSeverity.Error;
        }

        if (word.StartsWith("warn", StringComparison.Ordinal))
        {
            return DiagnosticSeverity.Warning;
        }

        if (word is "note" or "notice" or "info" or "information" or "deprecated")
        {
            return DiagnosticSeverity.Information;
        }

        return word is "help" or "hint" ? DiagnosticSeverity.Hint : null;
    }

    /// <summary>The compiled form of a catalog pattern (cached; the options every pattern is read with).</summary>
    /// <exception cref="ArgumentException">The pattern is not a valid regular expression.</exception>
    public static Regex GetRegex(string pattern) =>
        Cache.GetOrAdd(pattern, static p => new Regex(p, RegexOptions.CultureInvariant, MatchTimeout));

    private static SourceDiagnostic? FromLocation(Match match, DiagnosticPattern pattern, string fileName, DiagnosticOrigin origin)
    {
        var file = match.Groups["file"];
        if (file.Success && !IsSourceFile(file.Value, fileName))
        {
            return null;
        }

        var line = Number(match.Groups["line"]);
        if (line is null)
        {
            return null;
        }

        return new SourceDiagnostic(line.Value, Column(match), Severity(match, pattern), Message(match), origin);
    }

    private static SourceDiagnostic? FromStackTrace(Match match, DiagnosticPattern pattern, string fileName, DiagnosticOrigin origin)
    {
        var frames = GetRegex(pattern.Frame!).Matches(match.Value)
            .Where(frame => IsSourceFile(frame.Groups["file"].Value, fileName) && Number(frame.Groups["line"]) is not null)
            .ToList();
        if (frames.Count == 0)
        {
            return null;
        }

        var innermost = pattern.FrameOrder == FrameOrder.InnermostFirst ? frames[0] : frames[^1];
        return new SourceDiagnostic(Number(innermost.Groups["line"])!.Value, Column(innermost), Severity(match, pattern), Message(match), origin);
    }

    private static int? Column(Match match)
    {
        if (Number(match.Groups["column"]) is { } column)
        {
            return column;
        }

        var caret = match.Groups["caret"];
        return caret.Success ? caret.Length + 1 : null;
    }

    private static DiagnosticSeverity Severity(Match match, DiagnosticPattern pattern)
    {
        var group = match.Groups["severity"];
        return group.Success && SeverityFromText(group.Value) is { } severity ? severity : pattern.Severity;
    }

    private static string Message(Match match)
    {
        var group = match.Groups["message"];
        var message = group.Success ? group.Value : match.Value.Split('\n')[0];
        return message.Trim().TrimEnd(',').TrimEnd();
    }

    private static int? Number(Group group) =>
        group.Success && int.TryParse(group.ValueSpan, out var value) && value > 0 ? value : null;

    private static string Bound(string text)
    {
        if (text.Length <= MaxScannedChars)
        {
            return text;
        }

        // Compilers print the first errors first; runtimes print the trace last: keep both ends.
        var half = MaxScannedChars / 2;
        return string.Concat(text.AsSpan(0, half), "\n", text.AsSpan(text.Length - half));
    }
}
