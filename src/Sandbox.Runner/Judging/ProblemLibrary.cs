using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sandbox.Runner.Judging.Problems;
using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Judging;

/// <summary>
/// The problems this runner offers: every problem in <see cref="ProblemLibraryOptions.Folders"/>, plus (when
/// <see cref="ProblemLibraryOptions.AllowPaths"/>) any problem file, package folder or zip named by path.
/// Problems are read from disk on every call, so edits show up without a restart.
/// </summary>
public sealed class ProblemLibrary : IProblemLibrary
{
    private readonly ProblemLibraryOptions _options;
    private readonly ILanguageCatalog _languages;
    private readonly ILogger<ProblemLibrary> _logger;

    /// <summary>Creates the library over the configured folders.</summary>
    public ProblemLibrary(IOptions<ProblemLibraryOptions> options, ILanguageCatalog languages, ILogger<ProblemLibrary>? logger = null)
    {
        _options = options.Value;
        _languages = languages;
        _logger = logger ?? NullLogger<ProblemLibrary>.Instance;
        if (_options.Validate() is { } fault)
        {
            throw new OptionsValidationException(nameof(ProblemLibraryOptions), typeof(ProblemLibraryOptions), [fault]);
        }
    }

    /// <summary>Largest test file read, in bytes (a zip's declared sizes may lie, so reads are bounded too).</summary>
    internal long MaxTestFileBytes => _options.MaxTestFileBytes;

    /// <inheritdoc />
    public IReadOnlyList<ProblemSummary> List() =>
        Enumerate().Select(p => new ProblemSummary(p.Problem.Id, p.Problem.Title, p.Problem.SampleCount, p.Problem.Tests.Count)).ToList();

    /// <inheritdoc />
    public ProblemInfo Describe(string idOrPath)
    {
        var problem = Load(idOrPath);
        var samples = problem.Tests.Where(t => t.Sample)
            .Select(t => new ProblemSample(t.Name, Text(t.Input), Text(t.Answer)))
            .ToList();
        return new ProblemInfo(
            problem.Id,
            problem.Title,
            problem.StatementMarkdown,
            problem.TimeLimitSeconds,
            problem.MemoryLimitMb,
            samples,
            problem.Tests.Count - samples.Count);

        string Text(TestData data) => Encoding.UTF8.GetString(data.Read(_options.MaxTestFileBytes));
    }

    /// <summary>Loads a problem with its hidden tests, by library id or (when allowed) by path.</summary>
    internal LoadedProblem Load(string idOrPath)
    {
        if (ProblemIds.IsValid(idOrPath))
        {
            foreach (string candidate in _options.Folders.SelectMany(folder => Candidates(folder, idOrPath)))
            {
                if (Exists(candidate) && LooksLikeProblem(candidate))
                {
                    var problem = LoadPath(candidate);
                    if (problem.Id == idOrPath)
                    {
                        return problem;
                    }
                }
            }

            // A single-file problem may set an id other than its file name.
            if (Enumerate().FirstOrDefault(p => p.Problem.Id == idOrPath) is { Problem: { } found })
            {
                return found;
            }
        }

        if (_options.AllowPaths && Exists(idOrPath))
        {
            return LoadPath(idOrPath);
        }

        throw new ProblemNotFoundException(idOrPath);
    }

    /// <summary>Loads the problem at a path: a <c>.yaml</c>/<c>.yml</c> file, a <c>.zip</c>/<c>.kpp</c> package, or a package folder.</summary>
    internal LoadedProblem LoadPath(string path)
    {
        if (Directory.Exists(path))
        {
            return KattisPackageReader.Read(PackageSource.FromFolder(path), _options, _languages);
        }

        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".yaml" or ".yml" => SingleFileProblemReader.Read(path, _options),
            ".zip" or ".kpp" => KattisPackageReader.Read(PackageSource.FromZip(path), _options, _languages),
            _ => throw new ProblemFormatException(path, "not a problem: expected a .yaml file, a package folder or a .zip"),
        };
    }

    /// <summary>
    /// Where a problem's example submissions live: <c>submissions/</c> inside a package folder, or for a
    /// single-file problem <c>NAME.yaml</c>, the folder <c>NAME/submissions/</c> beside it. Null for zips.
    /// </summary>
    internal static string? SubmissionsFolder(string problemSource)
    {
        if (Directory.Exists(problemSource))
        {
            return Path.Combine(problemSource, "submissions");
        }

        string extension = Path.GetExtension(problemSource).ToLowerInvariant();
        return extension is ".yaml" or ".yml"
            ? Path.Combine(Path.GetDirectoryName(problemSource) ?? ".", Path.GetFileNameWithoutExtension(problemSource), "submissions")
            : null;
    }

    /// <summary>Every problem of the configured folders, first id wins; malformed ones are logged and skipped.</summary>
    internal IEnumerable<(string Path, LoadedProblem Problem)> Enumerate()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string folder in _options.Folders)
        {
            if (!Directory.Exists(folder))
            {
                _logger.LogDebug("Problem folder {Folder} does not exist", folder);
                continue;
            }

            foreach (string entry in Directory.EnumerateFileSystemEntries(folder).Order(StringComparer.Ordinal))
            {
                if (!LooksLikeProblem(entry))
                {
                    continue;
                }

                LoadedProblem problem;
                try
                {
                    problem = LoadPath(entry);
                }
                catch (ProblemFormatException ex)
                {
                    _logger.LogWarning("Skipping malformed problem {Path}: {Fault}", entry, ex.Message);
                    continue;
                }

                if (!seen.Add(problem.Id))
                {
                    _logger.LogWarning("Skipping {Path}: problem id {Id} is already taken by an earlier problem", entry, problem.Id);
                    continue;
                }

                yield return (entry, problem);
            }
        }
    }

    private static IEnumerable<string> Candidates(string folder, string id) =>
    [
        Path.Combine(folder, id + ".yaml"),
        Path.Combine(folder, id + ".yml"),
        Path.Combine(folder, id),
        Path.Combine(folder, id + ".zip"),
        Path.Combine(folder, id + ".kpp"),
    ];

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    private static bool LooksLikeProblem(string path)
    {
        if (Directory.Exists(path))
        {
            return File.Exists(Path.Combine(path, "problem.yaml"));
        }

        return Path.GetExtension(path).ToLowerInvariant() is ".yaml" or ".yml" or ".zip" or ".kpp";
    }
}
