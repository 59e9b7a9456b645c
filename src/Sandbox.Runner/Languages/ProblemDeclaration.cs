using System.Text.RegularExpressions;

namespace Sandbox.Runner.Languages;

/// <summary>
/// Reads the problem a source file declares it solves: a comment on its first line, in the language's comment
/// syntax, such as <c># sandbox: problem=fizzbuzz</c> or <c>// sandbox: problem=fizzbuzz</c>. A shebang line
/// (<c>#!...</c>) or PHP's opening tag may come before it.
/// </summary>
public static partial class ProblemDeclaration
{
    /// <summary>Finds the declared problem id; null when the file declares none.</summary>
    /// <param name="documentText">The source text.</param>
    /// <param name="language">The language of the source (its line comment prefix is used).</param>
    public static string? Find(string documentText, LanguageDefinition language)
    {
        foreach (var rawLine in FirstLines(documentText, 3))
        {
            var line = rawLine.Trim();
            if (line.StartsWith("#!", StringComparison.Ordinal) || line is "<?php" or "<?")
            {
                continue;
            }

            if (!line.StartsWith(language.LineComment, StringComparison.Ordinal))
            {
                return null;
            }

            var match = Declaration().Match(line[language.LineComment.Length..]);
            return match.Success ? match.Groups["id"].Value : null;
        }

        return null;
    }

    private static IEnumerable<string> FirstLines(string text, int count)
    {
        using var reader = new StringReader(text);
        for (var i = 0; i < count && reader.ReadLine() is { } line; i++)
        {
            yield return line;
        }
    }

    [GeneratedRegex(@"^\s*sandbox\s*:\s*problem\s*=\s*(?<id>[A-Za-z0-9][A-Za-z0-9._-]*)\s*$")]
    private static partial Regex Declaration();
}
