using System.Text;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Judging.Problems;

namespace Sandbox.Runner.Tests.Judging;

public sealed class SingleFileProblemReaderTests
{
    private static readonly ProblemLibraryOptions s_options = new();

    private static LoadedProblem Parse(string yaml) => SingleFileProblemReader.Parse(yaml, "demo.yaml", "demo", s_options);

    private const string Valid = """
        id: echo
        title: Echo
        statement: |
          Print the input.
        limits: { time: 0.5, memory: 64, output: 2 }
        validator:
          case_sensitive: true
          float_tolerance: 1e-4
        samples:
          - name: one
            input: "1"
            output: "1\n"
        tests:
          - input: "2\n"
            output: "2\n"
          - name: big
            input: "3\n"
            output: "3\n"
        """;

    [Fact]
    public void Parse_ValidFile_ReadsEveryField()
    {
        var problem = Parse(Valid);

        Assert.Equal("echo", problem.Id);
        Assert.Equal("Echo", problem.Title);
        Assert.Equal("Print the input.\n", problem.StatementMarkdown);
        Assert.Equal(0.5, problem.TimeLimitSeconds);
        Assert.Equal(64, problem.MemoryLimitMb);
        Assert.Equal(2048, problem.OutputLimitKb);
        Assert.Equal(["sample/one", "secret/1", "secret/big"], problem.Tests.Select(t => t.Name));
        Assert.Equal([true, false, false], problem.Tests.Select(t => t.Sample));
        Assert.All(problem.Tests, t => Assert.Equal(new ValidatorOptions { CaseSensitive = true, FloatAbsoluteTolerance = 1e-4, FloatRelativeTolerance = 1e-4 }, t.Validator));
        Assert.Equal(1, problem.SampleCount);
    }

    [Fact]
    public async Task Parse_InputWithoutNewline_GetsOne()
    {
        var problem = Parse(Valid);
        var input = await problem.Tests[0].Input.ReadAsync(100, CancellationToken.None);
        Assert.Equal("1\n", Encoding.UTF8.GetString(input));
    }

    [Fact]
    public void Parse_NoIdAndNoLimits_UsesFileNameAndDefaults()
    {
        var problem = Parse("title: T\ntests:\n  - { input: '1', output: '1' }\n");
        Assert.Equal("demo", problem.Id);
        Assert.Equal(s_options.DefaultTimeLimitSeconds, problem.TimeLimitSeconds);
        Assert.Equal(s_options.DefaultMemoryLimitMb, problem.MemoryLimitMb);
        Assert.Null(problem.OutputLimitKb);
    }

    [Theory]
    [InlineData("title: [unclosed\n", "invalid YAML at line")]
    [InlineData("title: T\ntests:\n  - input: '1'\n", "has no answer")]
    [InlineData("title: T\ntests:\n  - output: '1'\n", "has no input")]
    [InlineData("title: T\n", "no tests")]
    [InlineData("tests:\n  - { input: '1', output: '1' }\n", "'title' is required")]
    [InlineData("title: T\ncolour: red\ntests:\n  - { input: '1', output: '1' }\n", "unknown key 'colour'")]
    [InlineData("id: Bad Id\ntitle: T\ntests:\n  - { input: '1', output: '1' }\n", "'id' must be")]
    [InlineData("title: T\nlimits: { time: fast }\ntests:\n  - { input: '1', output: '1' }\n", "'limits.time' must be a number")]
    [InlineData("title: T\nlimits: { memory: -5 }\ntests:\n  - { input: '1', output: '1' }\n", "'limits.memory' must be a whole number")]
    [InlineData("title: T\nvalidator: { float_tolerance: -1 }\ntests:\n  - { input: '1', output: '1' }\n", "float_tolerance must be a non-negative number")]
    [InlineData("title: T\nvalidator: { ignore_case: true }\ntests:\n  - { input: '1', output: '1' }\n", "unknown key 'ignore_case'")]
    [InlineData("title: T\ntests:\n  - { name: a, input: '1', output: '1' }\n  - { name: a, input: '1', output: '1' }\n", "must be unique")]
    [InlineData("title: T\ntests: 5\n", "'tests' must be a list")]
    [InlineData("- just\n- a list\n", "must be a mapping")]
    public void Parse_MalformedFile_ThrowsNamingFileAndFault(string yaml, string fault)
    {
        var ex = Assert.Throws<ProblemFormatException>(() => Parse(yaml));
        Assert.Equal("demo.yaml", ex.File);
        Assert.Contains(fault, ex.Fault);
    }

    [Fact]
    public void Parse_MalformedHiddenTest_DoesNotQuoteItsData()
    {
        const string Secret = "TOP-SECRET-9931";
        var ex = Assert.Throws<ProblemFormatException>(() => Parse($"title: T\ntests:\n  - input: [{Secret}]\n    output: {Secret}\n"));
        Assert.DoesNotContain(Secret, ex.Message);
    }

    [Fact]
    public void Read_FileOverTheSizeCap_IsRefusedBeforeReading()
    {
        using var temp = new TempFolder();
        string path = Path.Combine(temp.Path, "huge.yaml");
        using (var stream = File.Create(path))
        {
            stream.SetLength(3L * 1024 * 1024 * 1024); // sparse: no disk used, and never read
        }

        var ex = Assert.Throws<ProblemFormatException>(() => SingleFileProblemReader.Read(path, s_options));
        Assert.Contains("limit", ex.Fault);
    }

    [Fact]
    public void Parse_AliasesRepeatingATestPastTheFileCap_AreRefused()
    {
        // A small file that names one test many times through a YAML alias: each would be copied on its own.
        var options = new ProblemLibraryOptions { MaxTestFileBytes = 10_000 };
        string yaml = "title: T\nsamples:\n  - &t { input: \"" + new string('x', 1000) + "\", output: \"1\" }\ntests:\n"
            + string.Concat(Enumerable.Repeat("  - *t\n", 20));
        Assert.True(yaml.Length < options.MaxTestFileBytes);
        var ex = Assert.Throws<ProblemFormatException>(() => SingleFileProblemReader.Parse(yaml, "bomb.yaml", "bomb", options));
        Assert.Contains("add up to more than", ex.Fault);

        // The same with few repeats stays within the cap and loads.
        string few = "title: T\nsamples:\n  - &t { input: \"" + new string('x', 1000) + "\", output: \"1\" }\ntests:\n  - *t\n";
        Assert.Equal(2, SingleFileProblemReader.Parse(few, "few.yaml", "few", options).Tests.Count);
    }

    [Fact]
    public void Read_ThePackagesProblemYaml_SaysToGiveTheFolder()
    {
        using var temp = new TempFolder();
        temp.Write("pkg/problem.yaml", "name: Demo\n");
        temp.Write("pkg/data/sample/1.in", "1\n");
        var ex = Assert.Throws<ProblemFormatException>(() => SingleFileProblemReader.Read(Path.Combine(temp.Path, "pkg", "problem.yaml"), s_options));
        Assert.Contains("give the package folder", ex.Fault);
    }
}
