using System.Text;
using Sandbox.Runner.Judging.Validation;

namespace Sandbox.Runner.Judging.Problems;

/// <summary>
/// Reads the self-contained YAML problem format (one file, e.g. <c>problems/fizzbuzz.yaml</c>):
/// <code>
/// id: fizzbuzz                 # optional; default: the file name without extension
/// title: FizzBuzz              # required
/// statement: |                 # Markdown
///   ...
/// limits: { time: 1, memory: 256, output: 8 }   # seconds, MiB, MiB; all optional
/// validator:                   # default-validator options, all optional
///   case_sensitive: false
///   space_change_sensitive: false
///   float_tolerance: 1e-6      # or float_absolute_tolerance / float_relative_tolerance
/// samples:                     # public
///   - { name: small, input: "3\n", output: "1\n2\nFizz\n" }
/// tests:                       # hidden
///   - input: "15\n"
///     output: ...
/// </code>
/// Test names are optional (default: their 1-based position); a non-empty input that does not end in a
/// newline gets one. Unknown keys are refused.
/// </summary>
internal static class SingleFileProblemReader
{
    public static LoadedProblem Read(string path, ProblemLibraryOptions options)
    {
        var info = new FileInfo(path);
        if (info.Length > options.MaxTestFileBytes)
        {
            throw new ProblemFormatException(path, $"larger than the {options.MaxTestFileBytes / 1024 / 1024} MB limit for problem files");
        }

        string text;
        try
        {
            text = File.ReadAllText(path, new UTF8Encoding(false, throwOnInvalidBytes: true));
        }
        catch (DecoderFallbackException)
        {
            throw new ProblemFormatException(path, "not valid UTF-8");
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (string.Equals(Path.GetFileName(path), "problem.yaml", StringComparison.Ordinal) && Directory.Exists(Path.Combine(folder, "data")))
        {
            throw new ProblemFormatException(path, $"this is the problem.yaml of a problem package: give the package folder ({folder}) instead");
        }

        return Parse(text, path, Path.GetFileNameWithoutExtension(path), options);
    }

    public static LoadedProblem Parse(string text, string file, string defaultId, ProblemLibraryOptions options)
    {
        var root = YamlMap.Parse(text, file);
        root.CheckKeys("id", "title", "statement", "limits", "validator", "samples", "tests");
        string id = root.String("id") ?? defaultId;
        if (!ProblemIds.IsValid(id))
        {
            throw root.FaultAt("id", "'id' must be lowercase letters, digits, '-' or '_' (at most 64)");
        }

        var limits = root.Map("limits");
        limits?.CheckKeys("time", "memory", "output");
        var validator = ReadValidator(root.Map("validator"), file);

        var tests = new List<ProblemTest>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        // Inputs and answers together may not exceed what one problem file may hold. Without YAML aliases they cannot
        // (they are in the file); with them a 1 MB file can name one test thousands of times, each copied on its own.
        long totalChars = 0;
        AddTests(root.MapList("samples"), "sample", sample: true);
        AddTests(root.MapList("tests"), "secret", sample: false);
        if (tests.Count == 0)
        {
            throw new ProblemFormatException(file, "no tests: give at least one of 'samples' or 'tests'");
        }

        return new LoadedProblem
        {
            Id = id,
            Title = root.RequiredString("title"),
            StatementMarkdown = root.String("statement") ?? "",
            Source = file,
            TimeLimitSeconds = limits?.PositiveNumber("time") ?? options.DefaultTimeLimitSeconds,
            MemoryLimitMb = limits?.PositiveInt("memory") ?? options.DefaultMemoryLimitMb,
            OutputLimitKb = limits?.PositiveInt("output") * 1024,
            Tests = tests,
        };

        void AddTests(IReadOnlyList<YamlMap> list, string group, bool sample)
        {
            for (int i = 0; i < list.Count; i++)
            {
                var test = list[i];
                test.CheckKeys("name", "input", "output");
                string name = $"{group}/{test.String("name") ?? (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)}";
                if (!ProblemIds.IsValidTestName(name) || !names.Add(name))
                {
                    throw test.FaultAt("name", $"test {i + 1} of '{(sample ? "samples" : "tests")}': the name must be unique and made of letters, digits, '-', '_' or '.'");
                }

                string input = test.String("input") ?? throw new ProblemFormatException(file, $"test '{name}' has no input");
                string output = test.String("output") ?? throw new ProblemFormatException(file, $"test '{name}' has no answer ('output')");
                totalChars += input.Length + output.Length;
                if (totalChars > options.MaxTestFileBytes)
                {
                    throw new ProblemFormatException(file, $"the tests' inputs and answers add up to more than the {options.MaxTestFileBytes / 1024 / 1024} MB limit for a problem file (at test '{name}'; YAML aliases repeat their text)");
                }

                if (input.Length > 0 && !input.EndsWith('\n'))
                {
                    input += "\n";
                }

                tests.Add(new ProblemTest(
                    name,
                    sample,
                    TestData.FromBytes($"{file} ({name} input)", Encoding.UTF8.GetBytes(input)),
                    TestData.FromBytes($"{file} ({name} answer)", Encoding.UTF8.GetBytes(output)),
                    validator,
                    []));
            }
        }
    }

    private static ValidatorOptions ReadValidator(YamlMap? map, string file)
    {
        if (map is null)
        {
            return new ValidatorOptions();
        }

        map.CheckKeys("case_sensitive", "space_change_sensitive", "float_tolerance", "float_absolute_tolerance", "float_relative_tolerance");
        double? both = Tolerance("float_tolerance");
        return new ValidatorOptions
        {
            CaseSensitive = map.Bool("case_sensitive") ?? false,
            SpaceChangeSensitive = map.Bool("space_change_sensitive") ?? false,
            FloatAbsoluteTolerance = Tolerance("float_absolute_tolerance") ?? both,
            FloatRelativeTolerance = Tolerance("float_relative_tolerance") ?? both,
        };

        double? Tolerance(string key) =>
            map.Number(key) is { } value ? ValidatorFlags.CheckTolerance(value, $"line {map.LineOf(key)}: validator.{key}", file) : null;
    }
}

/// <summary>Rules for problem ids and test names.</summary>
internal static class ProblemIds
{
    public static bool IsValid(string id) =>
        id.Length is > 0 and <= 64 && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    public static bool IsValidTestName(string name) =>
        name.Length <= 200 && name.Split('/').All(s => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'));
}
