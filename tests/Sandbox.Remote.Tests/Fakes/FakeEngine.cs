using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Languages;

namespace Sandbox.Remote.Tests.Fakes;

/// <summary>
/// A scripted engine. The program's source says what the fake does:
/// <c>echo:TEXT</c> writes TEXT to stdout; <c>chunks:N</c> writes N numbered lines one chunk each;
/// <c>block</c> waits until cancelled; <c>gate</c> waits until <see cref="ReleaseGate"/>; <c>fail</c> throws;
/// <c>unavailable</c> throws <see cref="SandboxUnavailableException"/>; <c>verdict:time-limit</c> returns that verdict;
/// anything else echoes stdin.
/// </summary>
internal sealed class FakeEngine : ICodeRunner, IJudge, ILanguageCatalog, IProblemLibrary
{
    private readonly TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FakeEngine(int slots = 4) => Slots = slots;

    public int Slots { get; }

    /// <summary>Every run the engine started, with the token it runs under.</summary>
    public Channel<StartedRun> Started { get; } = Channel.CreateUnbounded<StartedRun>();

    /// <summary>Runs whose token was cancelled while the engine ran them.</summary>
    public ConcurrentQueue<StartedRun> Cancelled { get; } = new();

    public ConcurrentQueue<RunRequest> Requests { get; } = new();

    public static readonly LanguageDefinition Python = new()
    {
        Id = "python",
        Name = "Python 3",
        Aliases = ["py", "python3"],
        Extensions = [".py"],
        LspLanguageIds = ["python"],
        SourceFile = "main.py",
        Run = ["python3", "{source}"],
        LineComment = "#",
        Hello = "print('Hello, world!')",
    };

    public static readonly LanguageDefinition Cpp = new()
    {
        Id = "cpp",
        Name = "C++",
        Extensions = [".cpp"],
        SourceFile = "main.cpp",
        Compile = ["g++", "{source}"],
        Run = ["./a.out"],
        LineComment = "//",
        Hello = "int main(){}",
    };

    public IReadOnlyList<LanguageDefinition> Available => [Python, Cpp];

    public IReadOnlyList<LanguageDefinition> All => Available;

    public void ReleaseGate() => gate.TrySetResult();

    public void Register(IServiceCollection services)
    {
        services.AddSingleton<ICodeRunner>(this);
        services.AddSingleton<IJudge>(this);
        services.AddSingleton<ILanguageCatalog>(this);
        services.AddSingleton<IProblemLibrary>(this);
    }

    public LanguageDefinition? Find(string idOrAlias) =>
        Available.FirstOrDefault(l => l.Id.Equals(idOrAlias, StringComparison.OrdinalIgnoreCase) || l.Aliases.Contains(idOrAlias, StringComparer.OrdinalIgnoreCase));

    public LanguageDefinition? FindByFileName(string fileName) =>
        Available.FirstOrDefault(l => l.Extensions.Any(e => fileName.EndsWith(e, StringComparison.OrdinalIgnoreCase)));

    public async Task<RunResult> RunAsync(RunRequest request, IProgress<OutputChunk>? output, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        var run = new StartedRun(request.Source, request.Stdin, cancellationToken);
        Started.Writer.TryWrite(run);
        var recorded = 0;
        void Record()
        {
            if (Interlocked.Exchange(ref recorded, 1) == 0)
            {
                Cancelled.Enqueue(run);
            }
        }

        using var registration = cancellationToken.Register(Record);
        try
        {
            return await RunCoreAsync(request, output, cancellationToken);
        }
        finally
        {
            // Callbacks run newest first: a Task.Delay's cancellation can end this method inline and dispose the
            // registration before its turn comes, so the end of the run records it too.
            if (cancellationToken.IsCancellationRequested)
            {
                Record();
            }
        }
    }

    /// <summary>A chunk as the engine reports one: its text and exactly its bytes.</summary>
    private static OutputChunk Chunk(OutputStreamKind stream, string text) => new(stream, text, System.Text.Encoding.UTF8.GetBytes(text));

    private async Task<RunResult> RunCoreAsync(RunRequest request, IProgress<OutputChunk>? output, CancellationToken cancellationToken)
    {
        var source = request.Source;
        if (source.StartsWith("echo:", StringComparison.Ordinal))
        {
            var text = source["echo:".Length..];
            output?.Report(Chunk(OutputStreamKind.Stdout, text));
            await Task.Yield();
            return new RunResult { Verdict = RunVerdict.Ok, ExitCode = 0, Stdout = text };
        }

        if (source.StartsWith("chunks:", StringComparison.Ordinal))
        {
            var count = int.Parse(source["chunks:".Length..], System.Globalization.CultureInfo.InvariantCulture);
            var all = new System.Text.StringBuilder();
            for (var i = 0; i < count; i++)
            {
                var line = $"line {i}\n";
                all.Append(line);
                output?.Report(Chunk(i % 10 == 9 ? OutputStreamKind.Stderr : OutputStreamKind.Stdout, line));
            }

            return new RunResult { Verdict = RunVerdict.Ok, ExitCode = 0, Stdout = all.ToString() };
        }

        if (source.StartsWith("verdict:", StringComparison.Ordinal))
        {
            var verdict = Enum.Parse<RunVerdict>(source["verdict:".Length..].Replace("-", "", StringComparison.Ordinal), ignoreCase: true);
            return new RunResult { Verdict = verdict, Signal = 9, CpuTimeMs = 1000 };
        }

        switch (source)
        {
            case "echo-stdin-bytes":
            {
                // Stdin back on stdout exactly, in two chunks split at the middle, as the engine reports bytes.
                var bytes = request.StdinBytes ?? System.Text.Encoding.UTF8.GetBytes(request.Stdin ?? "");
                var decoder = System.Text.Encoding.UTF8.GetDecoder();
                var half = bytes.Length / 2;
                foreach (var (part, last) in new[] { (bytes[..half], false), (bytes[half..], true) })
                {
                    var chars = new char[part.Length + 4];
                    output?.Report(new OutputChunk(OutputStreamKind.Stdout, new string(chars, 0, decoder.GetChars(part.Span, chars, last)), part));
                }

                return new RunResult { Verdict = RunVerdict.Ok, ExitCode = 0, Stdout = System.Text.Encoding.UTF8.GetString(bytes.Span), StdoutBytes = bytes };
            }

            case "block":
                output?.Report(Chunk(OutputStreamKind.Stdout, "started\n"));
                await Task.Delay(Timeout.Infinite, cancellationToken);
                throw new InvalidOperationException("unreachable");
            case "gate":
                await gate.Task.WaitAsync(cancellationToken);
                return new RunResult { Verdict = RunVerdict.Ok, ExitCode = 0, Stdout = "gate" };
            case "fail":
                throw new InvalidOperationException("secret internal detail /var/lib/sandbox/box-7");
            case "unavailable":
                throw new SandboxUnavailableException("LXC is not installed: run `apt-get install lxc`");
            default:
                return new RunResult { Verdict = RunVerdict.Ok, ExitCode = 0, Stdout = request.Stdin ?? "" };
        }
    }

    public Task<CompileOutcome> CompileAsync(string language, string source, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the fake judges without compiling");

    public Task<RunResult> ExecuteAsync(CompiledProgram program, ExecutionRequest request, IProgress<OutputChunk>? output, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the fake judges without compiling");

    public async Task<CheckResult> CheckAsync(CheckRequest request, IProgress<TestResult>? progress, CancellationToken cancellationToken)
    {
        if (request.Problem == "broken")
        {
            throw new ProblemFormatException("problems/broken.yaml", "tests[0] has no input");
        }

        if (request.Problem != "sum")
        {
            throw new ProblemNotFoundException(request.Problem);
        }

        var run = new StartedRun(request.Source, null, cancellationToken);
        Started.Writer.TryWrite(run);
        if (request.Source == "block")
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        var tests = new List<TestResult>();
        for (var i = 1; i <= 3; i++)
        {
            var verdict = request.Source == "wrong" && i == 3 ? TestVerdict.WrongAnswer : TestVerdict.Accepted;
            var test = new TestResult(i == 1 ? "sample/1" : $"secret/{i}", i == 1, verdict, 10 * i, 1000, null);
            tests.Add(test);
            progress?.Report(test);
            await Task.Yield();
        }

        var first = tests.FirstOrDefault(t => t.Verdict != TestVerdict.Accepted);
        return new CheckResult(first?.Verdict ?? TestVerdict.Accepted, tests.Count(t => t.Verdict == TestVerdict.Accepted), tests.Count, null, tests);
    }

    public Task<CheckResult> CheckAdHocAsync(AdHocCheckRequest request, IProgress<TestResult>? progress, CancellationToken cancellationToken)
    {
        var verdict = request.Stdin.Trim() == request.ExpectedStdout.Trim() ? TestVerdict.Accepted : TestVerdict.WrongAnswer;
        var test = new TestResult("ad-hoc", true, verdict, 5, 100, verdict == TestVerdict.Accepted ? null : "expected other output");
        progress?.Report(test);
        return Task.FromResult(new CheckResult(verdict, verdict == TestVerdict.Accepted ? 1 : 0, 1, null, [test]));
    }

    public IReadOnlyList<ProblemSummary> List() => [new ProblemSummary("sum", "Sum of two numbers", 1, 2)];

    public ProblemInfo Describe(string idOrPath) => idOrPath switch
    {
        "sum" => new ProblemInfo("sum", "Sum of two numbers", "Add *a* and *b*.", 1, 256, [new ProblemSample("sample/1", "1 2\n", "3\n")], 2),
        "broken" => throw new ProblemFormatException("problems/broken.yaml", "tests[0] has no input"),
        _ => throw new ProblemNotFoundException(idOrPath),
    };
}

/// <summary>A run as the engine saw it.</summary>
internal sealed record StartedRun(string Source, string? Stdin, CancellationToken Token);
