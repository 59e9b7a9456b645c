using System.Text.RegularExpressions;
using Sandbox.Lsp.Features.Documents;
using Sandbox.Remote.Contract;

namespace Sandbox.Lsp.Features.Languages;

/// <summary>Picks a document's language among the runner's: the explicit argument, else the LSP languageId, else the extension.</summary>
internal static partial class LanguageResolver
{
    /// <summary>The language, or null when none fits.</summary>
    public static LanguageInfo? Resolve(IReadOnlyList<LanguageInfo> languages, OpenDocument document, string? explicitLanguage)
    {
        if (!string.IsNullOrWhiteSpace(explicitLanguage))
        {
            return FindByName(languages, explicitLanguage);
        }

        if (!string.IsNullOrWhiteSpace(document.LanguageId)
            && languages.FirstOrDefault(l => l.LspLanguageIds.Contains(document.LanguageId, StringComparer.OrdinalIgnoreCase)) is { } byLspId)
        {
            return byLspId;
        }

        var extension = Path.GetExtension(document.FileName);
        if (extension.Length > 0
            && languages.FirstOrDefault(l => l.Extensions.Contains(extension, StringComparer.OrdinalIgnoreCase)) is { } byExtension)
        {
            return byExtension;
        }

        return string.IsNullOrWhiteSpace(document.LanguageId) ? null : FindByName(languages, document.LanguageId);
    }

    /// <summary>By id, alias or LSP language id, case-insensitive.</summary>
    public static LanguageInfo? FindByName(IReadOnlyList<LanguageInfo> languages, string name) =>
        languages.FirstOrDefault(l => string.Equals(l.Id, name, StringComparison.OrdinalIgnoreCase))
        ?? languages.FirstOrDefault(l => l.Aliases.Contains(name, StringComparer.OrdinalIgnoreCase)
                                         || l.LspLanguageIds.Contains(name, StringComparer.OrdinalIgnoreCase));

    /// <summary>
    /// The problem a file declares on its first line (after an optional shebang), as a line comment in the language's
    /// syntax: <c># sandbox: problem=fizzbuzz</c>, <c>// sandbox: problem=fizzbuzz</c>. Returns the id and its line.
    /// </summary>
    public static (string Problem, int Line)? FindProblemDeclaration(string text, string lineComment)
    {
        if (string.IsNullOrEmpty(lineComment))
        {
            return null;
        }

        var lines = text.Split('\n', 3);
        var index = lines.Length > 1 && lines[0].StartsWith("#!", StringComparison.Ordinal) ? 1 : 0;
        var line = lines[index].TrimEnd('\r').TrimStart();
        if (!line.StartsWith(lineComment, StringComparison.Ordinal))
        {
            return null;
        }

        var match = DeclarationPattern().Match(line[lineComment.Length..]);
        return match.Success ? (match.Groups["id"].Value, index) : null;
    }

    [GeneratedRegex(@"^\s*sandbox:\s*problem\s*=\s*(?<id>[^\s]+)")]
    private static partial Regex DeclarationPattern();
}
