using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Sandbox.Runner.Judging.Validation;
using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Judging.Problems;

/// <summary>
/// Reads a Kattis / ICPC problem package in the <c>legacy</c> version of the format
/// (https://www.kattis.com/problem-package-format/spec/legacy.html), as a folder or a zip.
/// Supported: pass-fail problems; <c>problem.yaml</c> (all keys of the spec; unknown keys are errors);
/// <c>.timelimit</c>; <c>data/sample</c> and <c>data/secret</c> with <c>*.in</c>/<c>*.ans</c> in nested test groups
/// and <c>testdata.yaml</c> (<c>output_validator_flags</c>); the default validator with <c>validator_flags</c>; one
/// single-file custom validator in <c>output_validators/</c>; the statement from <c>problem_statement/problem[.LANG].md</c>
/// or, roughly, <c>.tex</c>. Refused with a clear message: scoring problems, interactive validation, custom graders,
/// <c>include/</c>, validators with several files or <c>build</c>/<c>run</c> scripts.
/// </summary>
internal static partial class KattisPackageReader
{
    private const long MaxMetadataBytes = 1024 * 1024;

    private static readonly string[] s_problemKeys =
    [
        "problem_format_version", "type", "name", "uuid", "author", "source", "source_url", "license",
        "rights_owner", "limits", "validation", "validator_flags", "grading", "keywords",
    ];

    private static readonly string[] s_limitKeys =
    [
        "time_multiplier", "time_safety_margin", "memory", "output", "code", "compilation_time",
        "compilation_memory", "validation_time", "validation_memory", "validation_output",
    ];

    private static readonly string[] s_testdataKeys =
    [
        "on_reject", "grading", "grader_flags", "input_validator_flags", "output_validator_flags",
        "accept_score", "reject_score", "range",
    ];

    public static LoadedProblem Read(PackageSource package, ProblemLibraryOptions options, ILanguageCatalog languages)
    {
        string Loc(string relative) => package.Location.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) || package.Location.EndsWith(".kpp", StringComparison.OrdinalIgnoreCase)
            ? $"{package.Location}!{relative}"
            : Path.Combine(package.Location, relative);

        var yamlFile = package.Find("problem.yaml") ?? throw new ProblemFormatException(package.Location, "no problem.yaml at the package root");
        var yaml = YamlMap.Parse(ReadText(yamlFile), yamlFile.Location);
        yaml.CheckKeys(s_problemKeys);

        string version = yaml.String("problem_format_version") ?? "legacy";
        if (version is not ("legacy" or "legacy-icpc"))
        {
            throw yaml.FaultAt("problem_format_version", $"problem_format_version '{Short(version)}' is not supported (this runner reads the 'legacy' format)");
        }

        string type = yaml.String("type") ?? "pass-fail";
        if (type != "pass-fail")
        {
            throw yaml.FaultAt("type", type == "scoring" ? "scoring problems are not supported (only pass-fail)" : "type must be pass-fail or scoring");
        }

        if (yaml.Has("grading"))
        {
            throw yaml.FaultAt("grading", "'grading' is only for scoring problems, which are not supported");
        }

        var limits = yaml.Map("limits");
        limits?.CheckKeys(s_limitKeys);
        foreach (string key in s_limitKeys)
        {
            // time_multiplier and time_safety_margin only derive .timelimit from judge solutions' times; they are checked, not used.
            limits?.PositiveNumber(key);
        }

        var validation = (yaml.String("validation") ?? "default").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        bool custom = validation.Length > 0 && validation[0] == "custom";
        if (validation.Length == 0 || validation[0] is not ("default" or "custom") || (!custom && validation.Length > 1))
        {
            throw yaml.FaultAt("validation", "'validation' must be 'default' or 'custom' (optionally followed by 'interactive' or 'score')");
        }

        foreach (string extra in validation.Skip(1))
        {
            throw yaml.FaultAt("validation", extra switch
            {
                "interactive" => "interactive problems are not supported",
                "score" => "scoring validators are not supported (only pass-fail)",
                _ => $"unknown validation mode '{Short(extra)}'",
            });
        }

        var problemFlags = ValidatorFlags.Split(yaml.String("validator_flags"));
        if (!custom)
        {
            ValidatorFlags.Apply(new ValidatorOptions(), problemFlags, yamlFile.Location);
        }

        if (package.HasFolder("include"))
        {
            throw new ProblemFormatException(Loc("include/"), "included code (include/) is not supported");
        }

        if (package.HasFolder("graders"))
        {
            throw new ProblemFormatException(Loc("graders/"), "custom graders are not supported");
        }

        var validator = custom ? ReadCustomValidator(package, languages, Loc) : null;

        var tests = new List<ProblemTest>();
        CheckDataFolders(package, Loc);
        var rootSettings = ReadTestdata(package, "data", inherited: new GroupSettings([]));
        foreach (string group in new[] { "sample", "secret" })
        {
            AddGroup(package, $"data/{group}", group, group == "sample", rootSettings, problemFlags, custom, tests, Loc);
        }

        foreach (var data in tests.SelectMany(t => new[] { t.Input, t.Answer }))
        {
            // Refused here, from the size the file system or the zip directory declares, before any byte is read.
            if (data.Length > options.MaxTestFileBytes)
            {
                throw new ProblemFormatException(data.Location, $"larger than the {options.MaxTestFileBytes / 1024 / 1024} MB limit for test files");
            }
        }

        if (!tests.Any(t => !t.Sample))
        {
            throw new ProblemFormatException(Loc("data/secret/"), "no secret test cases (*.in with *.ans)");
        }

        double timeLimit = options.DefaultTimeLimitSeconds;
        if (package.Find(".timelimit") is { } timeLimitFile)
        {
            string text = ReadText(timeLimitFile).Trim();
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out timeLimit) || !double.IsFinite(timeLimit) || timeLimit <= 0)
            {
                throw new ProblemFormatException(timeLimitFile.Location, "must hold the time limit in seconds, a number greater than 0");
            }
        }

        var (title, statement) = ReadStatement(package);
        return new LoadedProblem
        {
            Id = SafeId(package.DefaultId),
            Title = yaml.LocalizedString("name") ?? title ?? package.DefaultId,
            StatementMarkdown = statement,
            Source = package.Location,
            TimeLimitSeconds = timeLimit,
            // Whole MiB, as the package format has them: a fraction would have been cut to 0 and read as no limit.
            MemoryLimitMb = limits?.PositiveInt("memory") ?? options.DefaultMemoryLimitMb,
            OutputLimitKb = limits?.PositiveNumber("output") is { } outputMb ? (int)(outputMb * 1024) : null,
            ValidationTimeSeconds = limits?.PositiveNumber("validation_time"),
            ValidationMemoryMb = limits?.PositiveInt("validation_memory"),
            CustomValidator = validator,
            Tests = tests,
        };
    }

    private sealed record GroupSettings(IReadOnlyList<string> OutputValidatorFlags);

    private static void CheckDataFolders(PackageSource package, Func<string, string> loc)
    {
        foreach (string path in package.Files.Keys.Where(k => k.StartsWith("data/", StringComparison.Ordinal)))
        {
            var parts = path.Split('/');
            if (parts.Length > 2 && parts[1] is not ("sample" or "secret"))
            {
                throw new ProblemFormatException(loc($"data/{parts[1]}/"), "only data/sample and data/secret may hold test data");
            }
        }
    }

    private static void AddGroup(
        PackageSource package,
        string folder,
        string name,
        bool sample,
        GroupSettings inherited,
        IReadOnlyList<string> problemFlags,
        bool custom,
        List<ProblemTest> tests,
        Func<string, string> loc)
    {
        var settings = ReadTestdata(package, folder, inherited);
        var flags = problemFlags.Concat(settings.OutputValidatorFlags).ToList();
        var options = custom ? new ValidatorOptions() : ValidatorFlags.Apply(new ValidatorOptions(), flags, loc($"{folder}/testdata.yaml"));

        string prefix = folder + "/";
        var children = new SortedDictionary<string, bool>(StringComparer.Ordinal); // base name -> is folder
        foreach (string path in package.Files.Keys)
        {
            if (!path.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            string rest = path[prefix.Length..];
            int slash = rest.IndexOf('/');
            if (slash >= 0)
            {
                children[rest[..slash]] = true;
            }
            else if (rest.EndsWith(".in", StringComparison.Ordinal))
            {
                children.TryAdd(rest[..^3], false);
            }
            else if (rest.EndsWith(".ans", StringComparison.Ordinal) && package.Find(prefix + rest[..^4] + ".in") is null)
            {
                throw new ProblemFormatException(loc(path), "answer file with no input file (.in) beside it");
            }
            else if (rest.EndsWith(".interaction", StringComparison.Ordinal))
            {
                throw new ProblemFormatException(loc(path), "interaction files belong to interactive problems, which are not supported");
            }
        }

        // Test cases and groups are used in lexicographic order of their base names, mixed (spec: Test Data Groups).
        foreach (var (child, isFolder) in children)
        {
            if (isFolder)
            {
                AddGroup(package, prefix + child, $"{name}/{child}", sample, settings, problemFlags, custom, tests, loc);
                continue;
            }

            var input = package.Find($"{prefix}{child}.in")!;
            var answer = package.Find($"{prefix}{child}.ans")
                ?? throw new ProblemFormatException(loc($"{prefix}{child}.in"), "test case has no answer file (.ans)");
            tests.Add(new ProblemTest($"{name}/{child}", sample, input, answer, options, flags));
        }
    }

    private static GroupSettings ReadTestdata(PackageSource package, string folder, GroupSettings inherited)
    {
        if (package.Find($"{folder}/testdata.yaml") is not { } file)
        {
            return inherited;
        }

        var yaml = YamlMap.Parse(ReadText(file), file.Location);
        yaml.CheckKeys(s_testdataKeys);
        if (yaml.String("on_reject") is { } onReject && onReject is not ("break" or "continue"))
        {
            throw yaml.FaultAt("on_reject", "on_reject must be 'break' or 'continue'");
        }

        if (yaml.String("grading") is { } grading && grading != "default")
        {
            throw yaml.FaultAt("grading", "custom grading is not supported");
        }

        foreach (string flag in ValidatorFlags.Split(yaml.String("grader_flags")))
        {
            if (flag is not ("worst_error" or "first_error" or "sum" or "avg" or "min" or "max"))
            {
                throw yaml.FaultAt("grader_flags", $"grader flag '{Short(flag)}' is not supported (pass-fail judging reports the first failing test)");
            }
        }

        foreach (string key in new[] { "accept_score", "reject_score", "range" })
        {
            if (yaml.Has(key))
            {
                throw yaml.FaultAt(key, $"'{key}' is only for scoring problems, which are not supported");
            }
        }

        if (yaml.IsStructured("output_validator_flags"))
        {
            throw yaml.FaultAt("output_validator_flags", "output_validator_flags must be a string of flags");
        }

        // A group's testdata.yaml replaces its ancestor's (spec: the closest ancestor's file is used).
        return new GroupSettings(ValidatorFlags.Split(yaml.String("output_validator_flags")));
    }

    private static CustomValidatorSource ReadCustomValidator(PackageSource package, ILanguageCatalog languages, Func<string, string> loc)
    {
        var files = package.Files.Keys.Where(k => k.StartsWith("output_validators/", StringComparison.Ordinal)).ToList();
        var programs = files.Select(f => f.Split('/')[1]).Distinct(StringComparer.Ordinal).ToList();
        if (programs.Count == 0)
        {
            throw new ProblemFormatException(loc("output_validators/"), "validation is 'custom' but there is no validator in output_validators/");
        }

        if (programs.Count > 1)
        {
            throw new ProblemFormatException(loc("output_validators/"), "more than one output validator is not supported");
        }

        var programFiles = files.Where(f => !IsDocumentation(f)).ToList();
        if (programFiles.Any(f => Path.GetFileName(f) is "build" or "run"))
        {
            throw new ProblemFormatException(loc($"output_validators/{programs[0]}/"), "validators with build/run scripts are not supported (give one source file)");
        }

        if (programFiles.Count != 1)
        {
            throw new ProblemFormatException(loc($"output_validators/{programs[0]}/"), $"only single-file validators are supported; found {programFiles.Count} files");
        }

        string path = programFiles[0];
        var language = languages.FindByFileName(path)
            ?? throw new ProblemFormatException(loc(path), "the validator's language is not one this runner offers (see `sandbox languages`)");
        string source = ReadText(package.Find(path)!);
        if (language.Id == "python" && Python2Shebang().IsMatch(source))
        {
            throw new ProblemFormatException(loc(path), "Python 2 validators are not supported");
        }

        return new CustomValidatorSource(language.Id, Path.GetFileName(path), source);

        static bool IsDocumentation(string file) =>
            Path.GetFileName(file).StartsWith("README", StringComparison.OrdinalIgnoreCase)
            || file.EndsWith(".md", StringComparison.OrdinalIgnoreCase)
            || file.EndsWith(".txt", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The statement as Markdown: <c>problem[.en].md</c> as is, else a rough rendering of <c>problem[.en].tex</c>.</summary>
    private static (string? Title, string Markdown) ReadStatement(PackageSource package)
    {
        string[] markdown = ["problem_statement/problem.en.md", "problem_statement/problem.md"];
        foreach (string path in markdown)
        {
            if (package.Find(path) is { } md)
            {
                return (null, ReadText(md));
            }
        }

        var tex = package.Find("problem_statement/problem.en.tex") ?? package.Find("problem_statement/problem.tex")
            ?? package.Files.Where(f => f.Key.StartsWith("problem_statement/problem.", StringComparison.Ordinal) && f.Key.EndsWith(".tex", StringComparison.Ordinal))
                .OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Value).FirstOrDefault();
        if (tex is null)
        {
            return (null, "");
        }

        string text = ReadText(tex);
        string? title = ProblemName().Match(text) is { Success: true } m ? m.Groups[1].Value.Trim() : null;
        text = ProblemName().Replace(text, m => $"# {m.Groups[1].Value.Trim()}");
        text = Section().Replace(text, m => $"## {m.Groups[1].Value.Trim()}");
        text = TexComment().Replace(text, "");
        return (title, text.Trim() + "\n");
    }

    private static string ReadText(TestData file)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(file.Read(MaxMetadataBytes)).TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException)
        {
            throw new ProblemFormatException(file.Location, "not valid UTF-8");
        }
    }

    private static string SafeId(string name)
    {
        string id = new(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
        return id.Length > 64 ? id[..64] : id;
    }

    private static string Short(string value) => value.Length > 40 ? value[..40] + "..." : value;

    [GeneratedRegex(@"^#!.*python2")]
    private static partial Regex Python2Shebang();

    [GeneratedRegex(@"\\problemname\{([^}]*)\}")]
    private static partial Regex ProblemName();

    [GeneratedRegex(@"\\(?:sub)?section\*?\{([^}]*)\}")]
    private static partial Regex Section();

    [GeneratedRegex(@"(?m)^%.*$\n?")]
    private static partial Regex TexComment();
}
