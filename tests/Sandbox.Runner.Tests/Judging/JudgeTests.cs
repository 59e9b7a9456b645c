using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Runner.Tests.Judging;

public sealed class JudgeTests : IDisposable
{
    private const string SecretInput = "SECRET-INPUT-4417";
    private const string SecretAnswer = "SECRET-ANSWER-8812";

    private readonly TempFolder _temp = new();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly CancellationTokenSource _timeout = new(Libraries.Timeout);

    public JudgeTests()
    {
        // "double": print twice the input. Two samples, four hidden tests.
        _temp.Write("double.yaml", """
            title: Double
            limits: { time: 2, memory: 128 }
            samples:
              - { input: "1", output: "2" }
              - { input: "2", output: "4" }
            tests:
              - { input: "3", output: "6" }
              - { input: "4", output: "8" }
              - { input: "5", output: "10" }
              - { input: "6", output: "12" }
            """);
        _temp.Write("leaky.yaml", $$"""
            title: Leaky
            samples:
              - { input: "public-sample", output: "public-answer" }
            tests:
              - { input: "{{SecretInput}}", output: "{{SecretAnswer}}" }
            """);
        _temp.Write("custom/problem.yaml", "validation: custom\nvalidator_flags: strict\n");
        _temp.Write("custom/output_validators/check.py", "# fake\n");
        _temp.Write("custom/data/sample/1.in", "1\n");
        _temp.Write("custom/data/sample/1.ans", "2\n");
        _temp.Write("custom/data/secret/1.in", SecretInput + "\n");
        _temp.Write("custom/data/secret/1.ans", SecretAnswer + "\n");
        Runner.Add("double", stdin => FakeCodeRunner.Ok($"{2 * int.Parse(stdin, CultureInfo.InvariantCulture)}\n"));
    }

    private FakeCodeRunner Runner { get; set; } = new(slots: 4);

    private CancellationToken Timeout => _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        _temp.Dispose();
    }

    private Judge CreateJudge(JudgeOptions? options = null) =>
        new(Runner, new FakeLanguageCatalog(), Libraries.Create(logger: _logs.For<ProblemLibrary>(), folders: _temp.Path), Options.Create(options ?? new JudgeOptions()), _logs.For<Judge>());

    private Task<CheckResult> CheckAsync(string source, string problem = "double", bool stop = false, IProgress<TestResult>? progress = null, LimitOverrides? limits = null) =>
        CreateJudge().CheckAsync(new CheckRequest("python", source, problem, stop, limits), progress, Timeout);

    [Fact]
    public async Task Check_CorrectProgram_AcceptsEveryTestInOrder()
    {
        var result = await CheckAsync("double");

        Assert.Equal(TestVerdict.Accepted, result.Verdict);
        Assert.Equal(6, result.Passed);
        Assert.Equal(6, result.Total);
        Assert.Equal(["sample/1", "sample/2", "secret/1", "secret/2", "secret/3", "secret/4"], result.Tests.Select(t => t.Name));
        Assert.All(result.Tests, t => Assert.Null(t.Detail));
        Assert.Single(Runner.Compilations);
    }

    [Fact]
    public async Task Check_CompileError_ReportsEveryTestAsCompileErrorWithoutRunning()
    {
        var reported = new ConcurrentQueue<TestResult>();
        var result = await CheckAsync("compile-error here", progress: new SyncProgress<TestResult>(reported.Enqueue));

        Assert.Equal(TestVerdict.CompileError, result.Verdict);
        Assert.Equal("main.c:1: error: nope", result.CompileOutput);
        Assert.Equal(0, result.Passed);
        Assert.All(result.Tests, t => Assert.Equal(TestVerdict.CompileError, t.Verdict));
        Assert.Equal(6, reported.Count);
        Assert.Empty(Runner.Executions);
    }

    [Fact]
    public async Task Check_UnknownLanguage_Throws()
    {
        await Assert.ThrowsAsync<UnknownLanguageException>(() =>
            CreateJudge().CheckAsync(new CheckRequest("cobol", "x", "double"), null, Timeout));
    }

    [Fact]
    public async Task Check_UnknownProblem_Throws()
    {
        await Assert.ThrowsAsync<ProblemNotFoundException>(() => CheckAsync("double", problem: "nope"));
    }

    [Fact]
    public async Task Check_OneSlot_RunsSamplesFirstThenTestsInOrder()
    {
        Runner = new FakeCodeRunner(slots: 1);
        Runner.Add("double", stdin => FakeCodeRunner.Ok($"{2 * int.Parse(stdin, CultureInfo.InvariantCulture)}\n"));

        await CheckAsync("double");

        Assert.Equal(["1\n", "2\n", "3\n", "4\n", "5\n", "6\n"], Runner.Executions.Select(e => Encoding.UTF8.GetString(e.Request.Stdin!.Value.Span)));
        Assert.Equal(1, Runner.MaxConcurrentExecutions);
    }

    [Fact]
    public async Task Check_RunsAsManyTestsAtOnceAsThereAreSlots()
    {
        Runner = new FakeCodeRunner(slots: 3);
        var started = new ConcurrentQueue<string>();
        var threeRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Runner.Programs["gated"] = async (stdin, _, ct) =>
        {
            started.Enqueue(stdin);
            if (started.Count == 3)
            {
                threeRunning.TrySetResult();
            }

            await threeRunning.Task.WaitAsync(ct);
            return FakeCodeRunner.Ok($"{2 * int.Parse(stdin, CultureInfo.InvariantCulture)}\n");
        };

        var result = await CheckAsync("gated");

        Assert.Equal(TestVerdict.Accepted, result.Verdict);
        Assert.Equal(3, Runner.MaxConcurrentExecutions);
    }

    [Fact]
    public async Task Check_ReportsEachResultTheMomentItIsKnown()
    {
        Runner = new FakeCodeRunner(slots: 2);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reported = new ConcurrentQueue<string>();
        Runner.Programs["slow-first"] = async (stdin, _, ct) =>
        {
            if (stdin == "1\n")
            {
                await releaseFirst.Task.WaitAsync(ct);
            }

            return FakeCodeRunner.Ok($"{2 * int.Parse(stdin, CultureInfo.InvariantCulture)}\n");
        };
        var progress = new SyncProgress<TestResult>(r =>
        {
            reported.Enqueue(r.Name);
            if (r.Name == "secret/4")
            {
                // Every other test was reported while the first one is still running.
                releaseFirst.TrySetResult();
            }
        });

        var result = await CheckAsync("slow-first", progress: progress);

        Assert.Equal("sample/1", reported.Last());
        Assert.Equal(6, reported.Count);
        // The result keeps test order regardless of completion order.
        Assert.Equal("sample/1", result.Tests[0].Name);
        Assert.Equal(TestVerdict.Accepted, result.Verdict);
    }

    [Fact]
    public async Task Check_OverallVerdict_IsTheFirstFailingTestInTestOrder()
    {
        Runner = new FakeCodeRunner(slots: 2);
        var laterFailed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Runner.Programs["mixed"] = async (stdin, _, ct) =>
        {
            switch (stdin)
            {
                case "2\n":
                    await laterFailed.Task.WaitAsync(ct); // finishes after test 4 failed
                    return new RunResult { Verdict = RunVerdict.TimeLimit, CpuTimeMs = 2000 };
                case "4\n":
                    laterFailed.TrySetResult();
                    return FakeCodeRunner.Ok("wrong\n");
                default:
                    return FakeCodeRunner.Ok($"{2 * int.Parse(stdin, CultureInfo.InvariantCulture)}\n");
            }
        };

        var result = await CheckAsync("mixed");

        Assert.Equal(TestVerdict.TimeLimit, result.Verdict);
        Assert.Equal(4, result.Passed);
        Assert.Equal(TestVerdict.WrongAnswer, result.Tests.Single(t => t.Name == "secret/2").Verdict);
    }

    [Fact]
    public async Task Check_StopOnFirstFailure_RunsNoTestAfterTheFailure()
    {
        Runner = new FakeCodeRunner(slots: 1);
        Runner.Add("fails-on-3", stdin => FakeCodeRunner.Ok(stdin == "3\n" ? "0\n" : $"{2 * int.Parse(stdin, CultureInfo.InvariantCulture)}\n"));

        var result = await CheckAsync("fails-on-3", stop: true);

        Assert.Equal(TestVerdict.WrongAnswer, result.Verdict);
        Assert.Equal(["sample/1", "sample/2", "secret/1"], result.Tests.Select(t => t.Name));
        Assert.Equal(3, Runner.Executions.Count);
        Assert.Equal(2, result.Passed);
        Assert.Equal(6, result.Total);
    }

    [Fact]
    public async Task Check_StopOnFirstFailure_LetsEarlierTestsFinishAndCancelsLaterOnes()
    {
        Runner = new FakeCodeRunner(slots: 3);
        var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var laterCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Runner.Programs["stop"] = async (stdin, _, ct) =>
        {
            switch (stdin)
            {
                case "1\n":
                    await failed.Task.WaitAsync(ct);
                    await laterCancelled.Task.WaitAsync(ct);
                    return new RunResult { Verdict = RunVerdict.RuntimeError, ExitCode = 1 };
                case "2\n":
                    failed.TrySetResult();
                    return FakeCodeRunner.Ok("wrong\n");
                default:
                    try
                    {
                        await Task.Delay(System.Threading.Timeout.Infinite, ct);
                    }
                    finally
                    {
                        laterCancelled.TrySetResult();
                    }

                    throw new InvalidOperationException("unreachable");
            }
        };

        var result = await CheckAsync("stop", stop: true);

        Assert.Equal(TestVerdict.RuntimeError, result.Verdict);
        Assert.Equal(["sample/1", "sample/2"], result.Tests.Select(t => t.Name));
        Assert.Equal(3, Runner.Executions.Count);
    }

    public static TheoryData<RunVerdict, TestVerdict> VerdictMapping => new()
    {
        { RunVerdict.RuntimeError, TestVerdict.RuntimeError },
        { RunVerdict.TimeLimit, TestVerdict.TimeLimit },
        { RunVerdict.MemoryLimit, TestVerdict.MemoryLimit },
        { RunVerdict.OutputLimit, TestVerdict.OutputLimit },
        { RunVerdict.SecurityViolation, TestVerdict.SecurityViolation },
        { RunVerdict.InternalError, TestVerdict.InternalError },
        { RunVerdict.CompileError, TestVerdict.InternalError },
    };

    [Theory]
    [MemberData(nameof(VerdictMapping))]
    public async Task Check_RunVerdict_MapsToTestVerdict(RunVerdict run, TestVerdict expected)
    {
        Runner.Add("verdict", _ => new RunResult { Verdict = run, ExitCode = run == RunVerdict.RuntimeError ? 1 : null, CpuTimeMs = 7, MemoryKb = 99 });

        var result = await CheckAsync("verdict");

        Assert.Equal(expected, result.Verdict);
        Assert.All(result.Tests, t => Assert.Equal(expected, t.Verdict));
        Assert.All(result.Tests, t => Assert.Equal((7, 99), (t.TimeMs, t.MemoryKb)));
    }

    [Fact]
    public async Task Check_ExitZeroButOutputTruncated_IsOutputLimit()
    {
        Runner.Add("truncated", _ => FakeCodeRunner.Ok("2\n") with { OutputTruncated = true });
        var result = await CheckAsync("truncated");
        Assert.Equal(TestVerdict.OutputLimit, result.Verdict);
    }

    [Fact]
    public async Task Check_PassesTheProblemLimits_AndOnlyLowerRequestedOnes()
    {
        await CheckAsync("double");
        Assert.All(Runner.Executions, e => Assert.Equal(new LimitOverrides(2, 128, null, null), e.Request.Limits));

        Runner.Executions.Clear();
        await CheckAsync("double", limits: new LimitOverrides(TimeLimitSeconds: 1, MemoryLimitMb: 512, OutputLimitKb: 10));
        Assert.All(Runner.Executions, e => Assert.Equal(new LimitOverrides(1, 128, 10, null), e.Request.Limits));
    }

    [Fact]
    public async Task Check_TimeLimitMultiplier_ScalesTheProblemTimeLimit()
    {
        var judge = new Judge(Runner, new FakeLanguageCatalog(), Libraries.Create(folders: _temp.Path), Options.Create(new JudgeOptions { TimeLimitMultiplier = 1.5 }));
        await judge.CheckAsync(new CheckRequest("python", "double", "double"), null, Timeout);
        Assert.All(Runner.Executions, e => Assert.Equal(3, e.Request.Limits!.TimeLimitSeconds));
    }

    [Fact]
    public async Task Check_WrongSample_HasAShortDiff()
    {
        Runner.Add("off", stdin => FakeCodeRunner.Ok($"{(2 * int.Parse(stdin, CultureInfo.InvariantCulture)) + 1}\n"));

        var result = await CheckAsync("off");

        Assert.Equal(TestVerdict.WrongAnswer, result.Verdict);
        Assert.Equal("line 1 of output (line 1 of answer): expected \"2\", got \"3\"", result.Tests[0].Detail);
        Assert.All(result.Tests.Where(t => !t.Sample), t => Assert.Null(t.Detail));
    }

    [Fact]
    public async Task Check_CrashingSample_ShowsExitCodeAndStderr()
    {
        Runner.Add("crash", _ => FakeCodeRunner.Exit(1, stderr: "Traceback: boom"));
        var result = await CheckAsync("crash");
        Assert.Equal("exit code 1\nTraceback: boom", result.Tests[0].Detail);
    }

    [Fact]
    public async Task Check_FailingHiddenTests_NeverLeakHiddenDataInResultsOrLogs()
    {
        // Programs that echo their input everywhere, and fail in every way.
        Runner.Add("echo-wrong", stdin => FakeCodeRunner.Ok($"{stdin} {SecretAnswer}x"));
        Runner.Add("echo-crash", stdin => FakeCodeRunner.Exit(1, stdin, $"error near {stdin}"));
        Runner.Add("echo-internal", stdin => new RunResult { Verdict = RunVerdict.TimeLimit, Stdout = stdin, Stderr = stdin });
        var reported = new ConcurrentQueue<TestResult>();

        var results = new List<CheckResult>();
        foreach (string program in new[] { "echo-wrong", "echo-crash", "echo-internal" })
        {
            results.Add(await CheckAsync(program, problem: "leaky", progress: new SyncProgress<TestResult>(reported.Enqueue)));
        }

        string everything = JsonSerializer.Serialize(results) + JsonSerializer.Serialize(reported) + _logs.AllText;
        Assert.DoesNotContain(SecretInput, everything);
        Assert.DoesNotContain(SecretAnswer, everything);
        Assert.All(results, r => Assert.NotEqual(TestVerdict.Accepted, r.Tests.Single(t => !t.Sample).Verdict));
        Assert.Contains("public-answer", everything); // samples may show their diff
    }

    [Fact]
    public async Task Check_CustomValidator_RunsInTheSandboxWithTheSpecArguments()
    {
        Runner.Add("team", stdin => FakeCodeRunner.Ok("team output\n"));
        var validatorCalls = new ConcurrentQueue<ExecutionRequest>();
        Runner.Programs["# fake\n"] = (stdin, request, _) =>
        {
            validatorCalls.Enqueue(request);
            return Task.FromResult(FakeCodeRunner.Exit(42));
        };

        var result = await CheckAsync("team", problem: "custom");

        Assert.Equal(TestVerdict.Accepted, result.Verdict);
        Assert.Equal(2, Runner.Compilations.Count); // the submission and the validator, once each
        Assert.Contains(("python", "# fake\n"), Runner.Compilations);
        var call = validatorCalls.First(c => Encoding.UTF8.GetString(c.ExtraFiles[0].Content.Span) == "1\n");
        Assert.Equal(["testdata.in", "testdata.ans", "feedback/", "strict"], call.Arguments);
        Assert.Equal(["testdata.in", "testdata.ans"], call.ExtraFiles.Select(f => f.Name));
        Assert.Equal("2\n", Encoding.UTF8.GetString(call.ExtraFiles[1].Content.Span));
        Assert.Equal(["feedback"], call.ExtraDirectories);
        Assert.Equal("team output\n", Encoding.UTF8.GetString(call.Stdin!.Value.Span));
    }

    [Theory]
    [InlineData(42, TestVerdict.Accepted)]
    [InlineData(43, TestVerdict.WrongAnswer)]
    [InlineData(0, TestVerdict.InternalError)]
    [InlineData(1, TestVerdict.InternalError)]
    public async Task Check_CustomValidatorExitCode_DecidesTheVerdict(int exitCode, TestVerdict expected)
    {
        Runner.Add("team", _ => FakeCodeRunner.Ok("x\n"));
        // The validator quotes the test's input and answer files; for a hidden test that output must go nowhere.
        Runner.Programs["# fake\n"] = (_, request, _) => Task.FromResult(FakeCodeRunner.Exit(
            exitCode,
            "validator saw " + Encoding.UTF8.GetString(request.ExtraFiles[0].Content.Span),
            Encoding.UTF8.GetString(request.ExtraFiles[1].Content.Span)));

        var result = await CheckAsync("team", problem: "custom");

        Assert.All(result.Tests, t => Assert.Equal(expected, t.Verdict));
        string everything = JsonSerializer.Serialize(result) + _logs.AllText;
        Assert.DoesNotContain(SecretInput, everything);
        Assert.DoesNotContain(SecretAnswer, everything);
    }

    [Fact]
    public async Task Check_CustomValidatorKilled_IsAnInternalError()
    {
        Runner.Add("team", _ => FakeCodeRunner.Ok("x\n"));
        Runner.Add("# fake\n", _ => new RunResult { Verdict = RunVerdict.RuntimeError, ExitCode = 42, Signal = 9 });
        var result = await CheckAsync("team", problem: "custom");
        Assert.Equal(TestVerdict.InternalError, result.Verdict);
    }

    [Fact]
    public async Task Check_ValidatorDoesNotCompile_EveryTestIsAnInternalError()
    {
        _temp.Write("custom/output_validators/check.py", "compile-error in the validator\n");
        Runner.Add("team", _ => FakeCodeRunner.Ok("x\n"));

        var result = await CheckAsync("team", problem: "custom");

        Assert.Equal(TestVerdict.InternalError, result.Verdict);
        Assert.All(result.Tests, t => Assert.Equal(TestVerdict.InternalError, t.Verdict));
        Assert.DoesNotContain(Runner.Executions, e => true);
    }

    [Fact]
    public async Task Check_Cancelled_ThrowsAndLeavesNoTestRunning()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int running = 0;
        Runner.Programs["forever"] = async (_, _, ct) =>
        {
            Interlocked.Increment(ref running);
            try
            {
                started.TrySetResult();
                await Task.Delay(System.Threading.Timeout.Infinite, ct);
                throw new InvalidOperationException("unreachable");
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        };
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Timeout);

        var check = CreateJudge().CheckAsync(new CheckRequest("python", "forever", "double"), null, cancel.Token);
        await started.Task.WaitAsync(Timeout);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => check);
        Assert.Equal(0, Volatile.Read(ref running));
    }

    [Theory]
    [InlineData("3.14159\n", null, TestVerdict.WrongAnswer)]
    [InlineData("3.14159\n", 1e-3, TestVerdict.Accepted)]
    [InlineData("3.1415926535\n", null, TestVerdict.Accepted)]
    public async Task CheckAdHoc_ComparesWithTheGivenValidatorOptions(string output, double? tolerance, TestVerdict expected)
    {
        Runner.Add("pi", _ => FakeCodeRunner.Ok(output));
        var request = new AdHocCheckRequest("python", "pi", "", "3.1415926535\n", tolerance is null ? null : new ValidatorOptions { FloatAbsoluteTolerance = tolerance });

        var result = await CreateJudge().CheckAdHocAsync(request, null, Timeout);

        Assert.Equal(expected, result.Verdict);
        var test = Assert.Single(result.Tests);
        Assert.Equal("adhoc", test.Name);
        Assert.Equal(expected == TestVerdict.WrongAnswer, test.Detail is not null);
    }

    [Fact]
    public async Task CheckAdHoc_PassesTheStdinAndRequestedLimits()
    {
        Runner.Add("cat", stdin => FakeCodeRunner.Ok(stdin));
        var limits = new LimitOverrides(TimeLimitSeconds: 0.5);

        var result = await CreateJudge().CheckAdHocAsync(new AdHocCheckRequest("python", "cat", "hello\n", "HELLO", Limits: limits), null, Timeout);

        Assert.Equal(TestVerdict.Accepted, result.Verdict);
        var execution = Assert.Single(Runner.Executions);
        Assert.Equal(limits, execution.Request.Limits);
        Assert.Equal("hello\n", Encoding.UTF8.GetString(execution.Request.Stdin!.Value.Span));
    }
}
