namespace Sandbox.Runner.Languages;

// The shape of languages.yaml as YamlDotNet reads it (camelCase keys). Kept apart from LanguageDefinition so
// that the file can use its own spellings (origin: both, innermost: last) and every value is checked once,
// with the language it belongs to named, before anything else sees it.

/// <summary>The root of <c>languages.yaml</c>.</summary>
internal sealed class CatalogDocument
{
    public List<LanguageEntry>? Languages { get; set; }
}

/// <summary>One language as written in <c>languages.yaml</c>.</summary>
internal sealed class LanguageEntry
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public List<string>? Aliases { get; set; }
    public List<string>? Extensions { get; set; }
    public List<string>? LspLanguageIds { get; set; }
    public string? SourceFile { get; set; }
    public List<string>? Compile { get; set; }
    public List<string>? Run { get; set; }
    public List<string>? Artifacts { get; set; }
    public string? LineComment { get; set; }
    public List<string>? Packages { get; set; }
    public List<string>? Requires { get; set; }
    public List<PatternEntry>? Diagnostics { get; set; }
    public string? Hello { get; set; }
    public string? Starter { get; set; }
}

/// <summary>One diagnostic pattern as written in <c>languages.yaml</c>.</summary>
internal sealed class PatternEntry
{
    /// <summary><c>compile</c>, <c>runtime</c> or <c>both</c>.</summary>
    public string? Origin { get; set; }

    public string? Regex { get; set; }

    /// <summary><c>error</c>, <c>warning</c>, <c>information</c> or <c>hint</c>.</summary>
    public string? Severity { get; set; }

    public string? Frame { get; set; }

    /// <summary><c>first</c> or <c>last</c>.</summary>
    public string? Innermost { get; set; }
}
