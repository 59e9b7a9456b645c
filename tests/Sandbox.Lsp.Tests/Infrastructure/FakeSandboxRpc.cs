using System.Collections.Concurrent;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Languages;

namespace Sandbox.Lsp.Tests.Infrastructure;

/// <summary>A scripted runner: each test sets what a run or check does; calls are recorded.</summary>
internal sealed class FakeSandboxRpc : ISandboxRpc
{
    public static readonly LanguageInfo Python = new(
        "python", "Python 3", ["py", "python3"], [".py"], ["python"], "#", null, "main.py",
        [
            new DiagnosticPattern { Origin = DiagnosticOrigin.Runtime, Regex = @"(?m)^  File ""(?<file>[^""]+)"", line (?<line>\d+)" },
            new DiagnosticPattern { Origin = DiagnosticOrigin.Compile, Regex = @"(?m)^  File ""(?<file>[^""]+)"", line (?<line>\d+)\n(?:.*\n){0,2}?(?<message>SyntaxError: .*)$" },
        ]);

    public static readonly LanguageInfo Cpp = new(
        "cpp", "C++ 17", ["c++"], [".cpp", ".cc"], ["cpp"], "//", null, "main.cpp",
        [
            new DiagnosticPattern { Regex = @"(?m)^(?<file>[^:\s]+):(?<line>\d+):(?<column>\d+): (?<severity>error|warning|note): (?<message>.*)$" },
        ]);

    public List<LanguageInfo> Languages { get; } = [Python, Cpp];

    public ConcurrentQueue<RunParams> Runs { get; } = new();

    public ConcurrentQueue<CheckParams> Checks { get; } = new();

    public ConcurrentQueue<string> Cancelled { get; } = new();

    /// <summary>Completes with the run id of the first <see cref="CancelAsync"/>.</summary>
    public TaskCompletionSource<string> FirstCancel { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Func<RunParams, IProgress<OutputEvent>?, CancellationToken, Task<RunResult>> OnRun { get; set; } = (request, output, _) =>
    {
        output?.Report(new OutputEvent(OutputStreamKind.Stdout, "hello\n"));
        return Task.FromResult(new RunResult { Verdict = RunVerdict.Ok, ExitCode = 0, Stdout = "hello\n" });
    };

    public Func<CheckParams, IProgress<TestResult>?, CancellationToken, Task<CheckResult>> OnCheck { get; set; } = (request, tests, _) =>
    {
        TestResult[] results =
        [
            new("sample/1", true, TestVerdict.Accepted, 12, 1000),
            new("secret/1", false, TestVerdict.WrongAnswer, 13, 1000),
        ];
        foreach (var result in results)
        {
            tests?.Report(result);
        }

        return Task.FromResult(new CheckResult(TestVerdict.WrongAnswer, 1, 2, null, results));
    };

    public Task<RunResult> RunAsync(RunParams request, IProgress<OutputEvent>? output, CancellationToken cancellationToken)
    {
        Runs.Enqueue(request);
        return OnRun(request, output, cancellationToken);
    }

    public Task<CheckResult> CheckAsync(CheckParams request, IProgress<TestResult>? tests, CancellationToken cancellationToken)
    {
        Checks.Enqueue(request);
        return OnCheck(request, tests, cancellationToken);
    }

    public Task<CancelResult> CancelAsync(CancelParams request, CancellationToken cancellationToken)
    {
        Cancelled.Enqueue(request.RunId);
        FirstCancel.TrySetResult(request.RunId);
        return Task.FromResult(new CancelResult(true));
    }

    public Task<LanguagesResult> LanguagesAsync(CancellationToken cancellationToken) => Task.FromResult(new LanguagesResult(Languages));

    public Task<ProblemsResult> ProblemsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new ProblemsResult([new ProblemSummary("fizzbuzz", "FizzBuzz", 1, 5)]));

    public Task<ProblemInfo> ProblemAsync(ProblemParams request, CancellationToken cancellationToken) =>
        request.Id == "fizzbuzz"
            ? Task.FromResult(new ProblemInfo("fizzbuzz", "FizzBuzz", "Print FizzBuzz.", 1, 64, [new ProblemSample("sample/1", "3\n", "1\n2\nFizz\n")], 4))
            : Task.FromException<ProblemInfo>(new ProblemNotFoundException(request.Id));

    /// <summary>A run that waits until cancelled, then throws as a real runner does.</summary>
    public static async Task<RunResult> RunUntilCancelled(TaskCompletionSource started, CancellationToken cancellationToken)
    {
        started.TrySetResult();
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }
}
