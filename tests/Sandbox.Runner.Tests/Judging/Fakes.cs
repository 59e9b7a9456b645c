using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Tests.Judging;

/// <summary>
/// A scripted engine for unit tests: a "program" is a function of its stdin (and request) to a run result.
/// Programs are looked up by their source text; a source starting with "compile-error" fails to compile.
/// </summary>
internal sealed class FakeCodeRunner(int slots = 4) : ICodeRunner
{
    private int _running;
    private int _maxRunning;

    public delegate Task<RunResult> Behaviour(string stdin, ExecutionRequest request, CancellationToken cancellationToken);

    public ConcurrentDictionary<string, Behaviour> Programs { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<(string Source, ExecutionRequest Request)> Executions { get; } = new();

    public ConcurrentQueue<(string Language, string Source)> Compilations { get; } = new();

    public int Slots { get; } = slots;

    public int MaxConcurrentExecutions => Volatile.Read(ref _maxRunning);

    public void Add(string source, Func<string, RunResult> behaviour) =>
        Programs[source] = (stdin, _, _) => Task.FromResult(behaviour(stdin));

    public Task<RunResult> RunAsync(RunRequest request, IProgress<OutputChunk>? output, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the judge compiles once and executes");

    public Task<CompileOutcome> CompileAsync(string language, string source, CancellationToken cancellationToken)
    {
        Compilations.Enqueue((language, source));
        if (source.StartsWith("compile-error", StringComparison.Ordinal))
        {
            var failure = new RunResult { Verdict = RunVerdict.CompileError, CompileOutput = "main.c:1: error: nope" };
            return Task.FromResult(new CompileOutcome(null, failure, "main.c:1: error: nope"));
        }

        var program = new CompiledProgram(language, [new SandboxFile("source", Encoding.UTF8.GetBytes(source))]);
        return Task.FromResult(new CompileOutcome(program, null, ""));
    }

    public async Task<RunResult> ExecuteAsync(CompiledProgram program, ExecutionRequest request, IProgress<OutputChunk>? output, CancellationToken cancellationToken)
    {
        string source = Encoding.UTF8.GetString(program.Files[0].Content.Span);
        Executions.Enqueue((source, request));
        int now = Interlocked.Increment(ref _running);
        try
        {
            int seen;
            while (now > (seen = Volatile.Read(ref _maxRunning)) && Interlocked.CompareExchange(ref _maxRunning, now, seen) != seen)
            {
            }

            string stdin = request.Stdin is { } bytes ? Encoding.UTF8.GetString(bytes.Span) : "";
            var behaviour = Programs.TryGetValue(source, out var b) ? b : throw new InvalidOperationException($"no fake program '{source}'");
            return await behaviour(stdin, request, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    public static RunResult Ok(string stdout, long timeMs = 5) => new() { Verdict = RunVerdict.Ok, ExitCode = 0, Stdout = stdout, CpuTimeMs = timeMs, MemoryKb = 1000 };

    public static RunResult Exit(int code, string stdout = "", string stderr = "") =>
        new() { Verdict = code == 0 ? RunVerdict.Ok : RunVerdict.RuntimeError, ExitCode = code, Stdout = stdout, Stderr = stderr };
}

/// <summary>The catalog's ids and extensions, without toolchains.</summary>
internal sealed class FakeLanguageCatalog : ILanguageCatalog
{
    private static readonly (string Id, string Extension)[] s_languages =
    [
        ("python", ".py"), ("c", ".c"), ("cpp", ".cpp"), ("java", ".java"), ("javascript", ".js"), ("bash", ".sh"),
        ("perl", ".pl"), ("ruby", ".rb"), ("go", ".go"), ("rust", ".rs"), ("php", ".php"),
    ];

    public IReadOnlyList<LanguageDefinition> All { get; } = s_languages.Select(l => new LanguageDefinition
    {
        Id = l.Id,
        Name = l.Id,
        Extensions = [l.Extension],
        SourceFile = "main" + l.Extension,
        Run = ["run"],
        LineComment = "#",
        Hello = "",
    }).ToList();

    public IReadOnlyList<LanguageDefinition> Available => All;

    public LanguageDefinition? Find(string idOrAlias) => All.FirstOrDefault(l => string.Equals(l.Id, idOrAlias, StringComparison.OrdinalIgnoreCase));

    public LanguageDefinition? FindByFileName(string fileName) =>
        All.FirstOrDefault(l => l.Extensions.Contains(Path.GetExtension(fileName), StringComparer.OrdinalIgnoreCase));
}

/// <summary>Collects every log line (message, scope values and exception text) for leak checks.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public ILogger<T> For<T>() => new TypedLogger<T>(new Logger(this));

    public string AllText => string.Join("\n", Lines);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable BeginScope<TState>(TState state)
            where TState : notnull
        {
            owner.Lines.Enqueue($"scope: {Describe(state)}");
            return new Scope();
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue($"{logLevel}: {formatter(state, exception)} {Describe(state)} {exception}");

        private static string Describe(object? state) => state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}"))
            : state?.ToString() ?? "";

        private sealed class Scope : IDisposable
        {
            public void Dispose()
            {
            }
        }
    }

    private sealed class TypedLogger<T>(ILogger inner) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception, formatter);
    }
}

/// <summary>An <see cref="IProgress{T}"/> that runs its callback synchronously on the reporting thread.</summary>
internal sealed class SyncProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}

/// <summary>Temporary folders and problem libraries for tests.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sandbox-judging-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string relative, string content)
    {
        string full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class Libraries
{
    /// <summary>The built-in library as copied beside the test assembly.</summary>
    public static string BuiltInFolder => Path.Combine(AppContext.BaseDirectory, "problems");

    public static ProblemLibrary Create(Action<ProblemLibraryOptions>? configure = null, ILogger<ProblemLibrary>? logger = null, params string[] folders)
    {
        var options = new ProblemLibraryOptions();
        options.Folders.Clear();
        foreach (string folder in folders)
        {
            options.Folders.Add(folder);
        }

        configure?.Invoke(options);
        return new ProblemLibrary(Options.Create(options), new FakeLanguageCatalog(), logger);
    }

    public static TimeSpan Timeout => TimeSpan.FromSeconds(10);
}
