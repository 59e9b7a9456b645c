using System.Diagnostics;
using System.IO.Compression;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sandbox.Runner.Tests.Judging;

/// <summary>Example submissions of the built-in library, by the package format's folder names.</summary>
internal static class ExampleSubmissions
{
    public static readonly IReadOnlyDictionary<string, TestVerdict> ExpectedVerdicts = new Dictionary<string, TestVerdict>
    {
        ["accepted"] = TestVerdict.Accepted,
        ["wrong_answer"] = TestVerdict.WrongAnswer,
        ["time_limit_exceeded"] = TestVerdict.TimeLimit,
        ["run_time_error"] = TestVerdict.RuntimeError,
    };

    /// <summary>(problem id, expected-verdict folder, file name) for every submission of every built-in problem.</summary>
    public static IEnumerable<(string Problem, string Expected, string File, string Path)> All()
    {
        foreach (var (path, problem) in Libraries.Create(folders: Libraries.BuiltInFolder).Enumerate())
        {
            string? folder = ProblemLibrary.SubmissionsFolder(path);
            if (folder is null || !Directory.Exists(folder))
            {
                continue;
            }

            foreach (string expected in ExpectedVerdicts.Keys)
            {
                string verdictFolder = System.IO.Path.Combine(folder, expected);
                if (!Directory.Exists(verdictFolder))
                {
                    continue;
                }

                foreach (string file in Directory.EnumerateFiles(verdictFolder).Order(StringComparer.Ordinal))
                {
                    yield return (problem.Id, expected, System.IO.Path.GetFileName(file), file);
                }
            }
        }
    }

    public static TheoryData<string, string, string> Data()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (problem, expected, file, _) in All())
        {
            data.Add(problem, expected, file);
        }

        return data;
    }

    public static string PathOf(string problem, string expected, string file) =>
        All().Single(s => s.Problem == problem && s.Expected == expected && s.File == file).Path;

    public static string Describe(CheckResult result) =>
        $"{result.Verdict} ({result.Passed}/{result.Total}); compile: {result.CompileOutput}; tests: "
        + string.Join(", ", result.Tests.Select(t => $"{t.Name}={t.Verdict} {t.TimeMs}ms {t.Detail}"));
}

/// <summary>Runs on its engine with no more than a given number of slots (to time 1 slot against all).</summary>
internal sealed class SlotLimitedRunner(ICodeRunner inner, int slots) : ICodeRunner
{
    public int Slots => slots;

    public Task<RunResult> RunAsync(RunRequest request, IProgress<OutputChunk>? output, CancellationToken cancellationToken) =>
        inner.RunAsync(request, output, cancellationToken);

    public Task<CompileOutcome> CompileAsync(string language, string source, CancellationToken cancellationToken) =>
        inner.CompileAsync(language, source, cancellationToken);

    private int _running;
    private int _mostAtOnce;

    /// <summary>The most executions that were in flight at the same time.</summary>
    public int MostAtOnce => Volatile.Read(ref _mostAtOnce);

    public async Task<RunResult> ExecuteAsync(CompiledProgram program, ExecutionRequest request, IProgress<OutputChunk>? output, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref _running);
        int seen;
        while (now > (seen = Volatile.Read(ref _mostAtOnce)) && Interlocked.CompareExchange(ref _mostAtOnce, now, seen) != seen)
        {
        }

        try
        {
            return await inner.ExecuteAsync(program, request, output, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}

/// <summary>Every example submission of the built-in library gets its expected verdict in the real sandbox.</summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class BuiltInSubmissionsTests(SandboxFixture sandbox, ITestOutputHelper output)
{
    private static readonly TimeSpan s_checkTimeout = TimeSpan.FromMinutes(5);

    public static TheoryData<string, string, string> Submissions() => ExampleSubmissions.Data();

    [Theory]
    [MemberData(nameof(Submissions))]
    public async Task Check_ExampleSubmission_GetsItsExpectedVerdict(string problem, string expected, string file)
    {
        using var timeout = new CancellationTokenSource(s_checkTimeout);
        var language = sandbox.Languages.FindByFileName(file);
        Assert.True(language is not null, $"no language for {file}");
        var logs = new CapturingLoggerProvider();
        var judge = new Judge(sandbox.Runner, sandbox.Languages, Libraries.Create(folders: Libraries.BuiltInFolder), null, logs.For<Judge>(), sandbox.Options);
        string source = await File.ReadAllTextAsync(ExampleSubmissions.PathOf(problem, expected, file), timeout.Token);

        var result = await judge.CheckAsync(new CheckRequest(language.Id, source, problem), null, timeout.Token);

        output.WriteLine(ExampleSubmissions.Describe(result));
        output.WriteLine(logs.AllText);
        Assert.True(ExampleSubmissions.ExpectedVerdicts[expected] == result.Verdict, $"{problem}/{expected}/{file}: {ExampleSubmissions.Describe(result)}");
    }

    [Fact]
    public async Task Check_FizzBuzz_RunsItsTestsOnEverySlotAtOnce()
    {
        using var timeout = new CancellationTokenSource(s_checkTimeout);
        string source = await File.ReadAllTextAsync(ExampleSubmissions.PathOf("fizzbuzz", "accepted", "fizzbuzz.py"), timeout.Token);
        var library = Libraries.Create(folders: Libraries.BuiltInFolder);
        var timings = new Dictionary<int, TimeSpan>();
        // Warm-up (not timed): the first check after the engine starts pays first-use costs the others do not.
        var warm = new Judge(sandbox.Runner, sandbox.Languages, library, null, null, sandbox.Options);
        Assert.Equal(TestVerdict.Accepted, (await warm.CheckAsync(new CheckRequest("python", source, "fizzbuzz"), null, timeout.Token)).Verdict);
        foreach (int slots in new[] { 1, sandbox.Runner.Slots })
        {
            var runner = new SlotLimitedRunner(sandbox.Runner, slots);
            var judge = new Judge(runner, sandbox.Languages, library, null, null, sandbox.Options);
            var clock = Stopwatch.StartNew();
            var result = await judge.CheckAsync(new CheckRequest("python", source, "fizzbuzz"), null, timeout.Token);
            timings[slots] = clock.Elapsed;
            Assert.Equal(TestVerdict.Accepted, result.Verdict);
            Assert.Equal(20, result.Total);
            // The judge keeps every slot it has busy, and never more: what makes a check faster on more slots.
            // (The wall times below are the figure; on a shared 2-core machine they are not an assertion.)
            Assert.Equal(slots, runner.MostAtOnce);
        }

        output.WriteLine($"fizzbuzz, 20 tests: 1 slot {timings[1].TotalMilliseconds:F0} ms, {sandbox.Runner.Slots} slots {timings[sandbox.Runner.Slots].TotalMilliseconds:F0} ms");
    }
}

/// <summary>A Kattis package gives the same verdicts whether it is checked as a folder or as a zip.</summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class KattisZipEquivalenceTests(SandboxFixture sandbox) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    // Time-limit submissions are left out only to keep the run short; they go through the same reader.
    public static TheoryData<string, string, string> Submissions()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (problem, expected, file, _) in ExampleSubmissions.All())
        {
            if (problem is "bigsum" or "twosum" && expected != "time_limit_exceeded")
            {
                data.Add(problem, expected, file);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Submissions))]
    public async Task Check_PackageAsFolderAndAsZip_GivesIdenticalVerdicts(string problem, string expected, string file)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        string folder = Path.Combine(Libraries.BuiltInFolder, problem);
        string zip = Path.Combine(_temp.Path, problem + ".zip");
        await ZipFile.CreateFromDirectoryAsync(folder, zip, CompressionLevel.Fastest, includeBaseDirectory: true, timeout.Token);
        var judge = new Judge(sandbox.Runner, sandbox.Languages, Libraries.Create(folders: []), null, null, sandbox.Options);
        var language = sandbox.Languages.FindByFileName(file)!;
        string source = await File.ReadAllTextAsync(ExampleSubmissions.PathOf(problem, expected, file), timeout.Token);

        var fromFolder = await judge.CheckAsync(new CheckRequest(language.Id, source, folder), null, timeout.Token);
        var fromZip = await judge.CheckAsync(new CheckRequest(language.Id, source, zip), null, timeout.Token);

        Assert.Equal(ExampleSubmissions.ExpectedVerdicts[expected], fromFolder.Verdict);
        Assert.Equal(fromFolder.Verdict, fromZip.Verdict);
        Assert.Equal(fromFolder.Tests.Select(t => (t.Name, t.Verdict)), fromZip.Tests.Select(t => (t.Name, t.Verdict)));
    }
}

/// <summary>With the real engine: a failing check never carries hidden inputs or answers in its result, progress or logs.</summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class HiddenDataLeakTests(SandboxFixture sandbox) : IDisposable
{
    private const string SecretInput = "HIDDEN-INPUT-5521";
    private const string SecretAnswer = "HIDDEN-ANSWER-7730";
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("import sys\ndata = sys.stdin.read()\nprint(data, 'not', 'it')\n")] // wrong answer quoting the input
    [InlineData("import sys\ndata = sys.stdin.read()\nprint(data)\nsys.stderr.write(data)\nraise SystemExit(data)\n")] // crash quoting it
    [InlineData("import sys\ndata = sys.stdin.read()\nprint(data)\nwhile True: pass\n")] // time limit after echoing
    public async Task Check_FailingProgramEchoingItsInput_LeaksNoHiddenData(string program)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        _temp.Write("leak.yaml", $$"""
            title: Leak
            limits: { time: 1 }
            samples:
              - { input: "public\n", output: "public\n" }
            tests:
              - { input: "{{SecretInput}}\n", output: "{{SecretAnswer}}\n" }
            """);
        var logs = new CapturingLoggerProvider();
        var reported = new System.Collections.Concurrent.ConcurrentQueue<TestResult>();
        var judge = new Judge(sandbox.Runner, sandbox.Languages, Libraries.Create(logger: logs.For<ProblemLibrary>(), folders: _temp.Path), null, logs.For<Judge>(), sandbox.Options);

        var result = await judge.CheckAsync(new CheckRequest("python", program, "leak"), new SyncProgress<TestResult>(reported.Enqueue), timeout.Token);

        Assert.NotEqual(TestVerdict.Accepted, result.Tests.Single(t => !t.Sample).Verdict);
        string everything = System.Text.Json.JsonSerializer.Serialize(result) + System.Text.Json.JsonSerializer.Serialize(reported) + logs.AllText;
        Assert.DoesNotContain(SecretInput, everything);
        Assert.DoesNotContain(SecretAnswer, everything);
    }
}
