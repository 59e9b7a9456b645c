using System.IO.Compression;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Tests.Judging;

public sealed class ProblemLibraryTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly CapturingLoggerProvider _logs = new();

    public void Dispose() => _temp.Dispose();

    private ProblemLibrary BuiltIn(Action<ProblemLibraryOptions>? configure = null) =>
        Libraries.Create(configure, _logs.For<ProblemLibrary>(), Libraries.BuiltInFolder);

    [Fact]
    public void List_BuiltInLibrary_HasEveryProblemAndSkipsNone()
    {
        var problems = BuiltIn().List();

        Assert.Equal(["bigsum", "distance", "fizzbuzz", "primecount", "twosum"], problems.Select(p => p.Id).Order());
        Assert.DoesNotContain("Skipping", _logs.AllText);
        var fizzbuzz = problems.Single(p => p.Id == "fizzbuzz");
        Assert.Equal(new ProblemSummary("fizzbuzz", "FizzBuzz", 2, 20), fizzbuzz);
    }

    [Fact]
    public void Load_BuiltInProblems_ExerciseTheFeaturesTheyStandFor()
    {
        var library = BuiltIn();

        Assert.NotNull(library.Load("distance").Tests[0].Validator.FloatAbsoluteTolerance);
        Assert.Contains(library.Load("bigsum").Tests, t => t.Name.StartsWith("secret/2-large/", StringComparison.Ordinal));
        Assert.Equal("python", library.Load("twosum").CustomValidator?.LanguageId);
        Assert.Equal(1, library.Load("primecount").TimeLimitSeconds);
    }

    [Fact]
    public void Describe_ShowsStatementLimitsAndSamplesButNoHiddenTests()
    {
        var info = BuiltIn().Describe("fizzbuzz");

        Assert.Equal("FizzBuzz", info.Title);
        Assert.Contains("FizzBuzz", info.StatementMarkdown);
        Assert.Equal(1, info.TimeLimitSeconds);
        Assert.Equal(256, info.MemoryLimitMb);
        Assert.Equal(["sample/small", "sample/fifteen"], info.Samples.Select(s => s.Name));
        Assert.Equal("3\n", info.Samples[0].Input);
        Assert.Equal("1\n2\nFizz\n", info.Samples[0].Output);
        Assert.Equal(18, info.HiddenTests);
        // The largest hidden test prints 19999; no sample does.
        Assert.DoesNotContain("19999", JsonSerializer.Serialize(info));
    }

    [Fact]
    public void Describe_KattisPackage_UsesItsStatement()
    {
        var info = BuiltIn().Describe("bigsum");
        Assert.Equal("Big Sum", info.Title);
        Assert.StartsWith("# Big Sum", info.StatementMarkdown);
        Assert.Equal(2, info.Samples.Count);
    }

    [Fact]
    public void Load_ByPath_ReadsYamlFolderAndZip()
    {
        var library = BuiltIn();
        string zip = Path.Combine(_temp.Path, "bigsum.zip");
        ZipFile.CreateFromDirectory(Path.Combine(Libraries.BuiltInFolder, "bigsum"), zip);

        Assert.Equal("fizzbuzz", library.Load(Path.Combine(Libraries.BuiltInFolder, "fizzbuzz.yaml")).Id);
        Assert.Equal("bigsum", library.Load(Path.Combine(Libraries.BuiltInFolder, "bigsum")).Id);
        Assert.Equal(library.Load("bigsum").Tests.Select(t => t.Name), library.Load(zip).Tests.Select(t => t.Name));
    }

    [Fact]
    public void Load_PathsNotAllowed_OnlyFindsLibraryIds()
    {
        var library = BuiltIn(o => o.AllowPaths = false);
        Assert.Equal("fizzbuzz", library.Load("fizzbuzz").Id);
        Assert.Throws<ProblemNotFoundException>(() => library.Load(Path.Combine(Libraries.BuiltInFolder, "fizzbuzz.yaml")));
    }

    [Fact]
    public void Load_Unknown_ThrowsNotFound()
    {
        Assert.Throws<ProblemNotFoundException>(() => BuiltIn().Load("no-such-problem"));
        Assert.Throws<ProblemNotFoundException>(() => BuiltIn().Describe("/no/such/path.yaml"));
    }

    [Fact]
    public void Load_FolderWithoutProblemYaml_IsAFormatError()
    {
        Directory.CreateDirectory(Path.Combine(_temp.Path, "empty"));
        var ex = Assert.Throws<ProblemFormatException>(() => BuiltIn().Load(Path.Combine(_temp.Path, "empty")));
        Assert.Contains("no problem.yaml", ex.Fault);
    }

    [Fact]
    public void List_MalformedProblem_IsSkippedAndLogged()
    {
        _temp.Write("good.yaml", "title: Good\ntests:\n  - { input: '1', output: '1' }\n");
        _temp.Write("bad.yaml", "title: [broken\n");
        var library = Libraries.Create(logger: _logs.For<ProblemLibrary>(), folders: _temp.Path);

        Assert.Equal(["good"], library.List().Select(p => p.Id));
        Assert.Contains("bad.yaml", _logs.AllText);
    }

    [Fact]
    public void List_SameIdInTwoFolders_FirstFolderWins()
    {
        _temp.Write("a/x.yaml", "title: First\ntests:\n  - { input: '1', output: '1' }\n");
        _temp.Write("b/x.yaml", "title: Second\ntests:\n  - { input: '1', output: '1' }\n");
        var library = Libraries.Create(folders: [Path.Combine(_temp.Path, "a"), Path.Combine(_temp.Path, "b")]);

        Assert.Equal("First", Assert.Single(library.List()).Title);
        Assert.Equal("First", library.Describe("x").Title);
    }

    [Fact]
    public void Load_SingleFileWithOwnId_IsFoundByThatId()
    {
        _temp.Write("file-name.yaml", "id: other-id\ntitle: T\ntests:\n  - { input: '1', output: '1' }\n");
        Assert.Equal("other-id", Libraries.Create(folders: _temp.Path).Load("other-id").Id);
    }

    [Fact]
    public void SubmissionsFolder_FollowsTheDocumentedConventions()
    {
        Assert.Equal(Path.Combine("p", "fizzbuzz", "submissions"), ProblemLibrary.SubmissionsFolder(Path.Combine("p", "fizzbuzz.yaml")));
        Assert.Equal(Path.Combine(Libraries.BuiltInFolder, "bigsum", "submissions"), ProblemLibrary.SubmissionsFolder(Path.Combine(Libraries.BuiltInFolder, "bigsum")));
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        Assert.Throws<OptionsValidationException>(() => Libraries.Create(o => o.MaxTestFileBytes = 0));
    }

    [Fact]
    public void AddSandboxJudging_ResolvesJudgeAndLibraryFromTheContainer()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ICodeRunner>(new FakeCodeRunner());
        services.AddSingleton<ILanguageCatalog>(new FakeLanguageCatalog());
        services.AddSandboxJudging(o => o.Folders.Add(_temp.Path));

        using var provider = services.BuildServiceProvider();

        Assert.IsType<Judge>(provider.GetRequiredService<IJudge>());
        Assert.Same(provider.GetRequiredService<ProblemLibrary>(), provider.GetRequiredService<IProblemLibrary>());
        Assert.Contains(_temp.Path, provider.GetRequiredService<IOptions<ProblemLibraryOptions>>().Value.Folders);
    }
}
