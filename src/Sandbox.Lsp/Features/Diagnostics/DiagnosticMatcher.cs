using Sandbox.Lsp.Protocol;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Languages;
using LspRange = Sandbox.Lsp.Protocol.Range;

namespace Sandbox.Lsp.Features.Diagnostics;

/// <summary>
/// Turns compile output and runtime stderr into LSP diagnostics on the document. The patterns come over the wire with
/// the language (<see cref="LanguageInfo.Diagnostics"/>), so a remote runner's catalog applies; they are read with the
/// catalog's own <see cref="DiagnosticParser"/> (a pure function: no runner state), which keeps only locations in the
/// program's source file. Tools count lines and columns from 1, LSP from 0.
/// </summary>
internal static class DiagnosticMatcher
{
    public static IReadOnlyList<Diagnostic> Match(LanguageInfo language, string documentFileName, string documentText, string? compileOutput, string? runtimeStderr)
    {
        if (language.Diagnostics is not { Count: > 0 } patterns)
        {
            return [];
        }

        var definition = new LanguageDefinition
        {
            Id = language.Id,
            Name = language.Name,
            // The runner writes the program to SourceFile; an older host that does not say falls back to the document's name.
            SourceFile = language.SourceFile ?? documentFileName,
            Run = [],
            LineComment = language.LineComment,
            Hello = "",
            Diagnostics = patterns,
        };
        var lines = documentText.Split('\n');
        var found = new List<SourceDiagnostic>();
        if (!string.IsNullOrEmpty(compileOutput))
        {
            found.AddRange(DiagnosticParser.Parse(definition, compileOutput, DiagnosticOrigin.Compile));
        }

        if (!string.IsNullOrEmpty(runtimeStderr))
        {
            found.AddRange(DiagnosticParser.Parse(definition, runtimeStderr, DiagnosticOrigin.Runtime));
        }

        return found.Select(d => ToLsp(d, lines)).Distinct().ToList();
    }

    private static Diagnostic ToLsp(SourceDiagnostic diagnostic, string[] lines)
    {
        var line = Math.Clamp(diagnostic.Line - 1, 0, Math.Max(lines.Length - 1, 0));
        var text = lines.Length > 0 ? lines[line].TrimEnd('\r') : "";
        // Without a column the whole line is marked, from its first non-blank character.
        var start = diagnostic.Column is { } column
            ? Math.Clamp(column - 1, 0, text.Length)
            : text.Length - text.TrimStart().Length;
        var end = Math.Max(text.Length, start + 1);
        return new Diagnostic(new LspRange(new Position(line, start), new Position(line, end)), diagnostic.Severity, diagnostic.Message);
    }
}
