using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging.Problems;
using Sandbox.Runner.Judging.Validation;
using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Judging;

/// <summary>
/// Judges a program against a problem: compiles it once, runs the tests (samples first) on up to
/// <see cref="ICodeRunner.Slots"/> slots at once, validates each output (the default validator in-process, a custom
/// validator inside the sandbox) and reports every <see cref="TestResult"/> the moment it is known.
/// Hidden tests' inputs and answers never appear in a result, an exception or a log line.
/// </summary>
public sealed class Judge : IJudge
{
    private const string ValidatorInput = "testdata.in";
    private const string ValidatorAnswer = "testdata.ans";
    private const string FeedbackDir = "feedback";

    private readonly ICodeRunner _runner;
    private readonly ILanguageCatalog _languages;
    private readonly ProblemLibrary _problems;
    private readonly JudgeOptions _options;
    private readonly ResourceLimits? _maximum;
    private readonly ILogger<Judge> _logger;

    /// <summary>Creates a judge over the engine and the problem library.</summary>
    /// <param name="runner">The engine.</param>
    /// <param name="languages">The language catalog.</param>
    /// <param name="problems">Where problems come from.</param>
    /// <param name="options">Judge options.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="sandbox">
    /// The engine's options, when known: a problem's own limits (e.g. a package's <c>memory: 2048</c>) are then lowered
    /// to the runner's maximum instead of being refused by the engine. Limits a client asks for are never raised or lowered here.
    /// </param>
    public Judge(
        ICodeRunner runner,
        ILanguageCatalog languages,
        ProblemLibrary problems,
        IOptions<JudgeOptions>? options = null,
        ILogger<Judge>? logger = null,
        SandboxOptions? sandbox = null)
    {
        _runner = runner;
        _languages = languages;
        _problems = problems;
        _options = options?.Value ?? new JudgeOptions();
        _maximum = sandbox?.MaxLimits;
        _logger = logger ?? NullLogger<Judge>.Instance;
    }

    /// <inheritdoc />
    public async Task<CheckResult> CheckAsync(CheckRequest request, IProgress<TestResult>? progress, CancellationToken cancellationToken)
    {
        RefuseAboveMaximum(request.Limits);
        var problem = _problems.Load(request.Problem);
        var language = FindLanguage(request.Language);
        var own = WithinMaximum(problem, new LimitOverrides(problem.TimeLimitSeconds * _options.TimeLimitMultiplier, problem.MemoryLimitMb, problem.OutputLimitKb));
        var limits = new LimitOverrides(
            TimeLimitSeconds: Min(own.TimeLimitSeconds, request.Limits?.TimeLimitSeconds),
            MemoryLimitMb: Min(own.MemoryLimitMb, request.Limits?.MemoryLimitMb),
            OutputLimitKb: Min(own.OutputLimitKb, request.Limits?.OutputLimitKb),
            Processes: request.Limits?.Processes);
        problem = problem with
        {
            ValidationTimeSeconds = WithinMaximum(problem, new LimitOverrides(problem.ValidationTimeSeconds)).TimeLimitSeconds,
            ValidationMemoryMb = WithinMaximum(problem, new LimitOverrides(MemoryLimitMb: problem.ValidationMemoryMb)).MemoryLimitMb,
        };
        return await JudgeAsync(problem, language, request.Source, limits, request.StopOnFirstFailure, progress, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<CheckResult> CheckAdHocAsync(AdHocCheckRequest request, IProgress<TestResult>? progress, CancellationToken cancellationToken)
    {
        RefuseAboveMaximum(request.Limits);
        var language = FindLanguage(request.Language);
        string input = request.Stdin;
        var problem = new LoadedProblem
        {
            Id = "ad-hoc",
            Title = "Ad-hoc check",
            Source = "ad-hoc check",
            TimeLimitSeconds = request.Limits?.TimeLimitSeconds ?? 0,
            MemoryLimitMb = request.Limits?.MemoryLimitMb ?? 0,
            Tests =
            [
                // The caller wrote this data, so it is treated as a public sample: a diff may be shown.
                new ProblemTest(
                    "adhoc",
                    Sample: true,
                    TestData.FromBytes("stdin", Encoding.UTF8.GetBytes(input)),
                    TestData.FromBytes("expected stdout", Encoding.UTF8.GetBytes(request.ExpectedStdout)),
                    request.Validator ?? new ValidatorOptions(),
                    []),
            ],
        };
        return await JudgeAsync(problem, language, request.Source, request.Limits, stopOnFirstFailure: false, progress, cancellationToken);
    }

    /// <summary>A client may only lower limits: refused before compiling rather than on every test.</summary>
    private void RefuseAboveMaximum(LimitOverrides? requested)
    {
        if (_maximum?.Exceeds(requested) is { } problem)
        {
            throw new LimitsExceededException(problem);
        }
    }

    /// <summary>Lowers a problem's own limits to the runner's maximum (the engine refuses limits above it).</summary>
    private LimitOverrides WithinMaximum(LoadedProblem problem, LimitOverrides limits)
    {
        if (_maximum is null || _maximum.Exceeds(limits) is not { } excess)
        {
            return limits;
        }

        _logger.LogInformation("Problem {Problem}: {Excess}; judging with the runner's maximum", problem.Id, excess);
        return new LimitOverrides(
            limits.TimeLimitSeconds is { } time ? Math.Min(time, _maximum.CpuTime.TotalSeconds) : null,
            limits.MemoryLimitMb is { } memory ? Math.Min(memory, (int)(_maximum.MemoryBytes / 1024 / 1024)) : null,
            limits.OutputLimitKb is { } output ? Math.Min(output, (int)(_maximum.OutputBytes / 1024)) : null,
            limits.Processes);
    }

    private LanguageDefinition FindLanguage(string language) =>
        _languages.Find(language) ?? throw new UnknownLanguageException(language);

    private async Task<CheckResult> JudgeAsync(
        LoadedProblem problem,
        LanguageDefinition language,
        string source,
        LimitOverrides? limits,
        bool stopOnFirstFailure,
        IProgress<TestResult>? progress,
        CancellationToken cancellationToken)
    {
        string checkId = Guid.NewGuid().ToString("N")[..12];
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["CheckId"] = checkId, ["Problem"] = problem.Id });
        var clock = Stopwatch.StartNew();
        var tests = problem.Tests;
        _logger.LogInformation("Checking a {Language} program against {Problem} ({Tests} tests, {Slots} slots)", language.Id, problem.Id, tests.Count, _runner.Slots);

        using var compileCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var validatorCompile = problem.CustomValidator is { } validatorSource
            ? _runner.CompileAsync(validatorSource.LanguageId, validatorSource.Source, compileCancel.Token)
            : null;
        CompileOutcome compiled;
        try
        {
            compiled = await _runner.CompileAsync(language.Id, source, cancellationToken);
        }
        catch
        {
            await compileCancel.CancelAsync();
            await ObserveAsync(validatorCompile);
            throw;
        }

        if (!compiled.Succeeded)
        {
            await compileCancel.CancelAsync();
            await ObserveAsync(validatorCompile);
            _logger.LogInformation("Compile error; no test ran");
            var failed = tests.Select(t => new TestResult(t.Name, t.Sample, TestVerdict.CompileError, 0, 0)).ToList();
            foreach (var result in failed)
            {
                progress?.Report(result);
            }

            return new CheckResult(TestVerdict.CompileError, 0, tests.Count, compiled.CompileOutput, failed);
        }

        CompiledProgram? validator = null;
        if (validatorCompile is not null)
        {
            CompileOutcome? validatorOutcome;
            try
            {
                validatorOutcome = await validatorCompile;
            }
            catch (UnknownLanguageException ex)
            {
                _logger.LogError("The custom validator {Validator} of {Problem} cannot be built here: {Message}", problem.CustomValidator!.FileName, problem.Id, ex.Message);
                validatorOutcome = null;
            }

            if (validatorOutcome is not { Succeeded: true })
            {
                if (validatorOutcome is not null)
                {
                    // The validator is the problem's code, not hidden data: its compiler output may be logged.
                    _logger.LogError("The custom validator {Validator} of {Problem} does not compile: {Output}", problem.CustomValidator!.FileName, problem.Id, validatorOutcome.CompileOutput);
                }

                var broken = tests.Select(t => new TestResult(t.Name, t.Sample, TestVerdict.InternalError, 0, 0, t.Sample ? "the problem's validator cannot be built" : null)).ToList();
                foreach (var result in broken)
                {
                    progress?.Report(result);
                }

                return new CheckResult(TestVerdict.InternalError, 0, tests.Count, compiled.CompileOutput, broken);
            }

            validator = validatorOutcome.Program;
        }

        var results = await RunTestsAsync(problem, compiled.Program!, validator, limits, stopOnFirstFailure, progress, cancellationToken);
        var finished = results.Where(r => r is not null).Select(r => r!).ToList();
        var verdict = finished.FirstOrDefault(r => r.Verdict != TestVerdict.Accepted)?.Verdict ?? TestVerdict.Accepted;
        int passed = finished.Count(r => r.Verdict == TestVerdict.Accepted);
        _logger.LogInformation("Check finished: {Verdict}, {Passed}/{Total} passed, {Ran} ran, in {ElapsedMs} ms", verdict, passed, tests.Count, finished.Count, clock.ElapsedMilliseconds);
        return new CheckResult(verdict, passed, tests.Count, compiled.CompileOutput, finished);
    }

    /// <summary>
    /// Runs the tests in order on up to <see cref="ICodeRunner.Slots"/> at once. With <paramref name="stopOnFirstFailure"/>,
    /// a failure cancels the tests after it (running or not) but lets the ones before it finish, so the overall
    /// verdict is still the first failing test's in test order. Skipped tests have no result (null).
    /// </summary>
    private async Task<TestResult?[]> RunTestsAsync(
        LoadedProblem problem,
        CompiledProgram program,
        CompiledProgram? validator,
        LimitOverrides? limits,
        bool stopOnFirstFailure,
        IProgress<TestResult>? progress,
        CancellationToken cancellationToken)
    {
        var tests = problem.Tests;
        var results = new TestResult?[tests.Count];
        var perTest = new CancellationTokenSource?[tests.Count];
        var sync = new object();
        int firstFailure = int.MaxValue;
        using var gate = new SemaphoreSlim(Math.Max(1, _runner.Slots));
        var running = new List<Task>();
        try
        {
            for (int i = 0; i < tests.Count; i++)
            {
                await gate.WaitAsync(cancellationToken);
                lock (sync)
                {
                    if (i > firstFailure)
                    {
                        gate.Release();
                        break;
                    }

                    perTest[i] = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                }

                running.Add(RunOneAsync(i, perTest[i]!.Token));
            }

            await Task.WhenAll(running);
        }
        finally
        {
            if (running.Count > 0)
            {
                // On cancellation the loop may leave before the tests end; never leave tests running behind.
                await Task.WhenAll(running).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            foreach (var cts in perTest)
            {
                cts?.Dispose();
            }
        }

        return results;

        async Task RunOneAsync(int index, CancellationToken token)
        {
            try
            {
                await Task.Yield();
                var result = await JudgeTestAsync(problem, tests[index], program, validator, limits, token);
                List<CancellationTokenSource> toCancel = [];
                lock (sync)
                {
                    results[index] = result;
                    progress?.Report(result);
                    if (stopOnFirstFailure && result.Verdict != TestVerdict.Accepted && index < firstFailure)
                    {
                        firstFailure = index;
                        for (int j = index + 1; j < perTest.Length; j++)
                        {
                            if (perTest[j] is { } later && results[j] is null)
                            {
                                toCancel.Add(later);
                            }
                        }
                    }
                }

                foreach (var cts in toCancel)
                {
                    await cts.CancelAsync();
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // Cancelled because an earlier test failed with stop-on-first-failure, or another test threw: no result.
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // The sandbox or the problem failed (not a verdict): stop dispatching, cancel the others, report the error.
                List<CancellationTokenSource> others;
                lock (sync)
                {
                    firstFailure = -1;
                    others = perTest.Where(c => c is not null).Select(c => c!).ToList();
                }

                foreach (var cts in others)
                {
                    await cts.CancelAsync();
                }

                throw;
            }
            finally
            {
                gate.Release();
            }
        }
    }

    private async Task<TestResult> JudgeTestAsync(
        LoadedProblem problem,
        ProblemTest test,
        CompiledProgram program,
        CompiledProgram? validator,
        LimitOverrides? limits,
        CancellationToken cancellationToken)
    {
        long maxBytes = _problems.MaxTestFileBytes;
        byte[] input = await test.Input.ReadAsync(maxBytes, cancellationToken);
        var run = await _runner.ExecuteAsync(program, new ExecutionRequest { Stdin = input, Limits = limits }, null, cancellationToken);

        TestVerdict verdict;
        string? detail = null;
        switch (run.Verdict)
        {
            case RunVerdict.Ok when run.OutputTruncated:
                verdict = TestVerdict.OutputLimit;
                break;
            case RunVerdict.Ok:
                byte[] answer = await test.Answer.ReadAsync(maxBytes, cancellationToken);
                // The program's own bytes: a decoded and re-encoded copy would turn every byte that is not UTF-8 into
                // U+FFFD, failing answers in other encodings and matching answers that contain U+FFFD.
                var output = run.GetStdoutBytes();
                (verdict, detail) = validator is null
                    ? FromOutcome(DefaultValidator.Validate(answer, output.Span, test.Validator))
                    : await RunValidatorAsync(problem, test, validator, input, answer, output, cancellationToken);
                break;
            case RunVerdict.RuntimeError:
                verdict = TestVerdict.RuntimeError;
                detail = run.Signal is { } signal ? $"killed by signal {signal}" : $"exit code {run.ExitCode}";
                if (!string.IsNullOrWhiteSpace(run.Stderr))
                {
                    detail += "\n" + Tail(run.Stderr);
                }

                break;
            case RunVerdict.TimeLimit:
                verdict = TestVerdict.TimeLimit;
                break;
            case RunVerdict.MemoryLimit:
                verdict = TestVerdict.MemoryLimit;
                break;
            case RunVerdict.OutputLimit:
                verdict = TestVerdict.OutputLimit;
                break;
            case RunVerdict.SecurityViolation:
                verdict = TestVerdict.SecurityViolation;
                break;
            default:
                verdict = TestVerdict.InternalError;
                _logger.LogError("The sandbox failed on test {Test}: {Verdict} {Message}", test.Name, run.Verdict, run.InternalMessage);
                break;
        }

        _logger.LogDebug("Test {Test}: {Verdict} in {TimeMs} ms, {MemoryKb} KB", test.Name, verdict, run.CpuTimeMs, run.MemoryKb);
        return new TestResult(test.Name, test.Sample, verdict, run.CpuTimeMs, run.MemoryKb, test.Sample ? Shorten(detail) : null);
    }

    /// <summary>
    /// Runs the problem's validator in the sandbox as the package format specifies:
    /// <c>validator input judge_answer feedback_dir/ [flags] &lt; team_output</c>; exit 42 accepts, 43 rejects,
    /// anything else is the problem's fault (internal error).
    /// </summary>
    private async Task<(TestVerdict, string?)> RunValidatorAsync(
        LoadedProblem problem,
        ProblemTest test,
        CompiledProgram validator,
        byte[] input,
        byte[] answer,
        ReadOnlyMemory<byte> output,
        CancellationToken cancellationToken)
    {
        var request = new ExecutionRequest
        {
            Stdin = output,
            Arguments = [ValidatorInput, ValidatorAnswer, FeedbackDir + "/", .. test.ValidatorFlags],
            ExtraFiles = [new SandboxFile(ValidatorInput, input), new SandboxFile(ValidatorAnswer, answer)],
            ExtraDirectories = [FeedbackDir],
            Limits = new LimitOverrides(TimeLimitSeconds: problem.ValidationTimeSeconds, MemoryLimitMb: problem.ValidationMemoryMb),
        };
        var run = await _runner.ExecuteAsync(validator, request, null, cancellationToken);
        if (run.Verdict is RunVerdict.Ok or RunVerdict.RuntimeError && run.Signal is null)
        {
            string? message = test.Sample ? (run.Stdout + run.Stderr).Trim() : null;
            switch (run.ExitCode)
            {
                case 42:
                    return (TestVerdict.Accepted, null);
                case 43:
                    return (TestVerdict.WrongAnswer, string.IsNullOrEmpty(message) ? "rejected by the problem's validator" : message);
            }
        }

        // Only the exit status: the validator's output may quote the hidden answer.
        _logger.LogError(
            "The validator of {Problem} failed on test {Test}: {Verdict}, exit code {ExitCode}, signal {Signal} (expected exit code 42 or 43)",
            problem.Id,
            test.Name,
            run.Verdict,
            run.ExitCode,
            run.Signal);
        return (TestVerdict.InternalError, "the problem's validator failed");
    }

    private static (TestVerdict, string?) FromOutcome(ValidationOutcome outcome) =>
        outcome.Accepted ? (TestVerdict.Accepted, null) : (TestVerdict.WrongAnswer, outcome.Message);

    private string Tail(string text)
    {
        text = text.TrimEnd();
        return text.Length <= _options.MaxDetailChars ? text : "..." + text[^_options.MaxDetailChars..];
    }

    private string? Shorten(string? detail) =>
        detail is null || detail.Length <= _options.MaxDetailChars ? detail : detail[.._options.MaxDetailChars] + "...";

    private static async Task ObserveAsync(Task? task)
    {
        if (task is not null)
        {
            try
            {
                await task;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static double? Min(double? a, double? b) => a is > 0 && b is > 0 ? Math.Min(a.Value, b.Value) : (a is > 0 ? a : (b is > 0 ? b : null));

    private static int? Min(int? a, int? b) => a is > 0 && b is > 0 ? Math.Min(a.Value, b.Value) : (a is > 0 ? a : (b is > 0 ? b : null));
}
