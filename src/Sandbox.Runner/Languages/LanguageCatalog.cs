using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Sandbox.Runner.Languages;

/// <summary>
/// The languages this runner knows, read from the declarative catalog (<c>Languages/languages.yaml</c>,
/// embedded in this assembly). The file is validated as a whole when it is loaded: a bad catalog throws one
/// <see cref="LanguageCatalogException"/> that names what to fix.
/// </summary>
public sealed partial class LanguageCatalog : ILanguageCatalog
{
    /// <summary>Name of the embedded catalog resource.</summary>
    public const string ResourceName = "Sandbox.Runner.Languages.languages.yaml";

    private static readonly HashSet<string> Placeholders = ["source", "memoryMb"];

    private readonly Dictionary<string, LanguageDefinition> byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, LanguageDefinition> byExtension = new(StringComparer.OrdinalIgnoreCase);
    private readonly Func<string, bool> fileExists;

    /// <summary>Creates a catalog over already built definitions (validated like a file).</summary>
    /// <param name="languages">The languages, in display order.</param>
    /// <param name="fileExists">How to test that a required binary exists (tests pass a fake); defaults to <see cref="File.Exists(string)"/>.</param>
    public LanguageCatalog(IReadOnlyList<LanguageDefinition> languages, Func<string, bool>? fileExists = null)
    {
        this.fileExists = fileExists ?? File.Exists;
        All = languages;
        if (languages.Count == 0)
        {
            throw new LanguageCatalogException("the language catalog has no languages");
        }

        foreach (var language in languages)
        {
            foreach (var name in language.LspLanguageIds.Concat(language.Aliases).Prepend(language.Id))
            {
                if (byName.TryGetValue(name, out var other) && !ReferenceEquals(other, language))
                {
                    throw new LanguageCatalogException($"language '{language.Id}': the name '{name}' is already used by language '{other.Id}'");
                }

                byName[name] = language;
            }

            foreach (var extension in language.Extensions)
            {
                if (byExtension.TryGetValue(extension, out var other) && !ReferenceEquals(other, language))
                {
                    throw new LanguageCatalogException($"language '{language.Id}': the extension '{extension}' is already used by language '{other.Id}'");
                }

                byExtension[extension] = language;
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<LanguageDefinition> All { get; }

    /// <summary>The languages whose required binaries exist right now (checked on every read, so a provisioning step that installs a toolchain shows at once).</summary>
    public IReadOnlyList<LanguageDefinition> Available => All.Where(IsAvailable).ToList();

    /// <summary>Loads the catalog embedded in this assembly.</summary>
    public static LanguageCatalog LoadDefault(Func<string, bool>? fileExists = null)
    {
        using var stream = typeof(LanguageCatalog).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new LanguageCatalogException($"the embedded resource {ResourceName} is missing from {typeof(LanguageCatalog).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "languages.yaml", fileExists);
    }

    /// <summary>Loads a catalog file.</summary>
    public static LanguageCatalog Load(string path, Func<string, bool>? fileExists = null) =>
        Parse(File.ReadAllText(path), Path.GetFileName(path), fileExists);

    /// <summary>Reads and validates catalog YAML.</summary>
    /// <param name="yaml">The text of a catalog.</param>
    /// <param name="sourceName">The file name used in error messages.</param>
    /// <param name="fileExists">How to test that a required binary exists.</param>
    /// <exception cref="LanguageCatalogException">The catalog is malformed; the message names the file, the language and the field.</exception>
    public static LanguageCatalog Parse(string yaml, string sourceName = "languages.yaml", Func<string, bool>? fileExists = null)
    {
        CatalogDocument? document;
        try
        {
            var deserializer = new DeserializerBuilder()
                .WithNamingConvention(CamelCaseNamingConvention.Instance)
                .Build();
            document = deserializer.Deserialize<CatalogDocument?>(yaml);
        }
        catch (YamlException e)
        {
            var reason = (e.InnerException ?? e).Message;
            throw new LanguageCatalogException($"{sourceName} (line {e.Start.Line}, column {e.Start.Column}): {reason}", e);
        }

        if (document?.Languages is not { Count: > 0 } entries)
        {
            throw new LanguageCatalogException($"{sourceName}: no languages (expected a top-level 'languages:' list)");
        }

        try
        {
            var languages = entries.Select((entry, index) => ToDefinition(entry, index)).ToList();
            return new LanguageCatalog(languages, fileExists);
        }
        catch (LanguageCatalogException e)
        {
            throw new LanguageCatalogException($"{sourceName}: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public LanguageDefinition? Find(string idOrAlias) =>
        byName.TryGetValue(idOrAlias.Trim(), out var language) ? language : null;

    /// <inheritdoc />
    public LanguageDefinition? FindByFileName(string fileName)
    {
        var name = Path.GetFileName(fileName);
        var extension = Path.GetExtension(name);
        return extension.Length > 0 && byExtension.TryGetValue(extension, out var language) ? language : null;
    }

    /// <summary>Whether every binary the language requires exists.</summary>
    public bool IsAvailable(LanguageDefinition language) => language.Requires.All(fileExists);

    /// <summary>The Debian packages to install so that every language of the catalog is available (none when all are).</summary>
    public IReadOnlyList<string> MissingPackages() =>
        All.Where(language => !IsAvailable(language))
            .SelectMany(language => language.Packages)
            .Distinct(StringComparer.Ordinal)
            .ToList();

    private static LanguageDefinition ToDefinition(LanguageEntry entry, int index)
    {
        var id = entry.Id?.Trim();
        if (string.IsNullOrEmpty(id) || !IdPattern().IsMatch(id))
        {
            throw new LanguageCatalogException($"languages[{index}]: 'id' must be lowercase letters, digits, '+', '#' or '-' (got '{entry.Id}')");
        }

        LanguageCatalogException Error(string what) => new($"language '{id}': {what}");

        string Required(string? value, string field) =>
            string.IsNullOrWhiteSpace(value) ? throw Error($"'{field}' is required") : value;

        var sourceFile = Required(entry.SourceFile, "sourceFile");
        if (sourceFile != Path.GetFileName(sourceFile) || sourceFile is "." or "..")
        {
            throw Error($"'sourceFile' must be a plain file name (got '{sourceFile}')");
        }

        var run = entry.Run ?? [];
        if (run.Count == 0)
        {
            throw Error("'run' must be a non-empty argv list");
        }

        var compile = entry.Compile ?? [];
        foreach (var (argv, field) in new[] { (compile, "compile"), (run, "run") })
        {
            if (argv.Any(string.IsNullOrEmpty))
            {
                throw Error($"'{field}' has an empty argument");
            }

            foreach (Match placeholder in PlaceholderPattern().Matches(string.Join(' ', argv)))
            {
                if (!Placeholders.Contains(placeholder.Groups[1].Value))
                {
                    throw Error($"'{field}' uses the unknown placeholder {placeholder.Value} (known: {{source}}, {{memoryMb}})");
                }
            }
        }

        var extensions = entry.Extensions ?? [];
        foreach (var extension in extensions)
        {
            if (extension.Length < 2 || extension[0] != '.' || extension.IndexOfAny(['/', '\\', ' ']) >= 0)
            {
                throw Error($"extension '{extension}' must start with a dot, like '.py'");
            }
        }

        foreach (var path in entry.Requires ?? [])
        {
            if (!Path.IsPathRooted(path))
            {
                throw Error($"'requires' entry '{path}' must be an absolute path");
            }
        }

        var hello = Required(entry.Hello, "hello");
        var patterns = (entry.Diagnostics ?? []).SelectMany((pattern, i) => ToPatterns(pattern, $"diagnostics[{i}]", Error)).ToList();

        return new LanguageDefinition
        {
            Id = id,
            Name = Required(entry.Name, "name"),
            Aliases = entry.Aliases ?? [],
            Extensions = extensions,
            LspLanguageIds = entry.LspLanguageIds ?? [],
            SourceFile = sourceFile,
            Compile = compile,
            Run = run,
            Artifacts = entry.Artifacts ?? [],
            LineComment = Required(entry.LineComment, "lineComment"),
            Packages = entry.Packages ?? [],
            Requires = entry.Requires ?? [],
            Diagnostics = patterns,
            Hello = hello,
            Starter = entry.Starter,
        };
    }

    private static IEnumerable<DiagnosticPattern> ToPatterns(PatternEntry entry, string where, Func<string, LanguageCatalogException> error)
    {
        var origins = entry.Origin?.Trim().ToLowerInvariant() switch
        {
            "compile" => [DiagnosticOrigin.Compile],
            "runtime" => [DiagnosticOrigin.Runtime],
            "both" => new[] { DiagnosticOrigin.Compile, DiagnosticOrigin.Runtime },
            var other => throw error($"{where}.origin must be compile, runtime or both (got '{other}')"),
        };

        var severity = entry.Severity is null
            ? DiagnosticSeverity.Error
            : DiagnosticParser.SeverityFromText(entry.Severity)
                ?? throw error($"{where}.severity must be error, warning, information or hint (got '{entry.Severity}')");

        var order = entry.Innermost?.Trim().ToLowerInvariant() switch
        {
            null or "first" => FrameOrder.InnermostFirst,
            "last" => FrameOrder.InnermostLast,
            var other => throw error($"{where}.innermost must be first or last (got '{other}')"),
        };

        if (string.IsNullOrEmpty(entry.Regex))
        {
            throw error($"{where}.regex is required");
        }

        var regex = Compile(entry.Regex, $"{where}.regex", error);
        if (entry.Frame is null)
        {
            RequireGroup(regex, "line", $"{where}.regex", error);
        }
        else
        {
            var frame = Compile(entry.Frame, $"{where}.frame", error);
            RequireGroup(frame, "line", $"{where}.frame", error);
            RequireGroup(frame, "file", $"{where}.frame", error);
            RequireGroup(regex, "message", $"{where}.regex", error);
        }

        return origins.Select(origin => new DiagnosticPattern
        {
            Origin = origin,
            Regex = entry.Regex,
            Severity = severity,
            Frame = entry.Frame,
            FrameOrder = order,
        });
    }

    private static Regex Compile(string pattern, string where, Func<string, LanguageCatalogException> error)
    {
        try
        {
            return DiagnosticParser.GetRegex(pattern);
        }
        catch (ArgumentException e)
        {
            throw error($"{where} is not a valid regular expression: {e.Message}");
        }
    }

    private static void RequireGroup(Regex regex, string group, string where, Func<string, LanguageCatalogException> error)
    {
        if (regex.GroupNumberFromName(group) < 0)
        {
            throw error($"{where} has no (?<{group}>...) group");
        }
    }

    [GeneratedRegex(@"^[a-z][a-z0-9+#-]*$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex PlaceholderPattern();
}
