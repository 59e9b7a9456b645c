using System.Globalization;
using System.Text.RegularExpressions;
using Sandbox.Lsp.Protocol;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Languages;
using LspRange = Sandbox.Lsp.Protocol.Range;

namespace Sandbox.Lsp.Features.Diagnostics;

/// <summary>
/// Turns compile output and runtime stderr into diagnostics on the document with the language's catalog patterns
/// (named groups <c>file</c>, <c>line</c>, <c>column</c>, <c>severity</c>, <c>message</c>). Tools count lines and
/// columns from 1, LSP from 0. Matches that name another file than the program's source are dropped.
/// </summary>
internal static class DiagnosticMatcher
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    public static IReadOnlyList<Diagnostic> Match(LanguageInfo language, string documentFileName, string documentText, string? compileOutput, string? runtimeStderr)
    {
        var patterns = language.Diagnostics ?? [];
        var lines = documentText.Split('\n');
        var seen = new HashSet<(int, int, string)>();
        var result = new List<Diagnostic>();
        foreach (var pattern in patterns)
        {
            var output = pattern.Origin == DiagnosticOrigin.Compile ? compileOutput : runtimeStderr;
            if (string.IsNullOrEmpty(output))
            {
                continue;
            }

            Regex regex;
            try
            {
                regex = new Regex(pattern.Regex, RegexOptions.None, MatchTimeout);
            }
            catch (ArgumentException)
            {
                continue;
            }

            try
            {
                foreach (Match match in regex.Matches(output))
                {
                    if (ToDiagnostic(match, pattern, language.SourceFile, documentFileName, lines) is { } diagnostic
                        && seen.Add((diagnostic.Range.Start.Line, diagnostic.Range.Start.Character, diagnostic.Message)))
                    {
                        result.Add(diagnostic);
                    }
                }
            }
            catch (RegexMatchTimeoutException)
            {
                // A pathological output against one pattern must not stop the others.
            }
        }

        return result;
    }

    private static Diagnostic? ToDiagnostic(Match match, DiagnosticPattern pattern, string? sourceFile, string documentFileName, string[] lines)
    {
        var file = match.Groups["file"];
        if (file.Success && !IsOurFile(file.Value, sourceFile, documentFileName))
        {
            return null;
        }

        if (!int.TryParse(match.Groups["line"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var toolLine) || toolLine < 1)
        {
            return null;
        }

        var line = Math.Min(toolLine - 1, Math.Max(lines.Length - 1, 0));
        var text = lines.Length > 0 ? lines[line].TrimEnd('\r') : "";
        int start;
        if (int.TryParse(match.Groups["column"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var toolColumn) && toolColumn >= 1)
        {
            start = Math.Min(toolColumn - 1, text.Length);
        }
        else
        {
            start = text.Length - text.TrimStart().Length;
        }

        var end = Math.Max(text.Length, start + 1);
        var severity = match.Groups["severity"] is { Success: true } s ? ParseSeverity(s.Value) ?? pattern.Severity : pattern.Severity;
        var message = match.Groups["message"] is { Success: true } m ? m.Value.Trim() : match.Value.Trim();
        return new Diagnostic(new LspRange(new Position(line, start), new Position(line, end)), severity, message.Length == 0 ? match.Value.Trim() : message);
    }

    private static bool IsOurFile(string path, string? sourceFile, string documentFileName)
    {
        var name = path.Trim().Replace('\\', '/');
        name = name[(name.LastIndexOf('/') + 1)..];
        return string.Equals(name, sourceFile, StringComparison.Ordinal) || string.Equals(name, documentFileName, StringComparison.Ordinal);
    }

    private static DiagnosticSeverity? ParseSeverity(string value)
    {
        var v = value.Trim().ToLowerInvariant();
        return v switch
        {
            _ when v.Contains("error", StringComparison.Ordinal) || v == "e" => DiagnosticSeverity.Error,
            _ when v.Contains("warn", StringComparison.Ordinal) || v == "w" => DiagnosticSeverity.Warning,
            _ when v.Contains("note", StringComparison.Ordinal) || v.Contains("info", StringComparison.Ordinal) => DiagnosticSeverity.Information,
            _ when v.Contains("hint", StringComparison.Ordinal) => DiagnosticSeverity.Hint,
            _ => null,
        };
    }
}
