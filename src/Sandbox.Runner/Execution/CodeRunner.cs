using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Runner.Isolation;
using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Execution;

/// <summary>
/// The engine: compile → run in warm LXC containers. Provisions the machine and starts its pool on first
/// use (<see cref="StartAsync"/>); every later run reuses the warm containers.
/// </summary>
public sealed class CodeRunner : ICodeRunner, IAsyncDisposable
{
    private const int SigKill = 9;
    private const int SigXcpu = 24;
    private const int SigSys = 31;

    private readonly SandboxOptions _options;
    private readonly ILanguageCatalog _languages;
    private readonly ILogger<CodeRunner> _logger;
    private readonly SemaphoreSlim _startGate = new(1, 1);
    private SlotPool? _pool;

    public CodeRunner(SandboxOptions options, ILanguageCatalog languages, ILogger<CodeRunner>? logger = null)
    {
        options.Validate();
        _options = options;
        _languages = languages;
        _logger = logger ?? NullLogger<CodeRunner>.Instance;
    }

    /// <inheritdoc/>
    public int Slots => _options.Slots;

    /// <summary>True once the containers are provisioned and warm.</summary>
    public bool IsReady => Volatile.Read(ref _pool) is not null;

    /// <summary>Cgroup hierarchy in use (after start).</summary>
    public CgroupVersion? CgroupVersion { get; private set; }

    /// <summary>
    /// Provisions this machine (first time only: toolchains, root file system) and starts the warm containers.
    /// Safe to call many times. Throws <see cref="SandboxUnavailableException"/> with the fix when it cannot.
    /// </summary>
    public async Task StartAsync(IProgress<string>? progress, CancellationToken cancellationToken)
    {
        if (_pool is not null)
        {
            return;
        }

        await _startGate.WaitAsync(cancellationToken);
        try
        {
            if (_pool is not null)
            {
                return;
            }

            var pool = await Task.Run(
                () =>
                {
                    var image = new Provisioner(_options, _languages, _logger).Provision(progress);
                    CgroupVersion = image.Cgroups.Version;
                    try
                    {
                        return SlotPool.Start(image, _options, _logger);
                    }
                    catch
                    {
                        image.InUse.Dispose();
                        throw;
                    }
                },
                cancellationToken);
            Volatile.Write(ref _pool, pool);
        }
        catch (SandboxUnavailableException)
        {
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new SandboxUnavailableException($"the sandbox could not start: {e.Message}", e);
        }
        finally
        {
            _startGate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task<RunResult> RunAsync(RunRequest request, IProgress<OutputChunk>? output, CancellationToken cancellationToken)
    {
        var language = Resolve(request.Language);
        var limits = Clamp(request.Limits);
        return await OnContainerAsync("Run", async container =>
        {
            IReadOnlyList<SandboxFile> source = [SourceFile(language, request.Source)];
            string? compileOutput = null;
            if (language.Compile.Count > 0)
            {
                var (failure, text) = await CompileStepAsync(container, language, source, output, cancellationToken);
                source = [];
                compileOutput = text;
                if (failure is not null)
                {
                    return (failure, false);
                }
            }

            var stdin = request.StdinBytes ?? (request.Stdin is { Length: > 0 } stdinText ? Encoding.UTF8.GetBytes(stdinText) : ReadOnlyMemory<byte>.Empty);
            var outcome = await SandboxProcess.RunAsync(
                container,
                new ProcessSpec(Expand(language.Run, language, limits), stdin, limits, OutputStreamKind.Stdout, OutputStreamKind.Stderr, MergeStderr: false, AfterExit.Reset, source),
                _options.RunUid,
                output,
                cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            return (ToResult(outcome, limits, compileOutput), true);
        }, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="body"/> on a container of the pool and gives the container back (reset, unless the body
    /// says its last process already reset it). An agent failure replaces the container and becomes an internal error.
    /// </summary>
    private Task<RunResult> OnContainerAsync(string what, Func<Container, Task<(RunResult Result, bool Reset)>> body, CancellationToken cancellationToken) =>
        OnContainerAsync(what, body, Internal, cancellationToken);

    /// <summary>As above, with <paramref name="onAgentFailure"/> turning the agent's failure into the caller's result.</summary>
    private async Task<T> OnContainerAsync<T>(string what, Func<Container, Task<(T Result, bool Reset)>> body, Func<string, T> onAgentFailure, CancellationToken cancellationToken)
    {
        var pool = await PoolAsync(cancellationToken);
        var container = await pool.AcquireAsync(cancellationToken);
        var reset = false;
        try
        {
            (var result, reset) = await body(container);
            return result;
        }
        catch (AgentException e)
        {
            _logger.LogError("{What} failed in {Container}: {Error}", what, container.Name, e.Message);
            pool.Replace(container);
            container = null!;
            return onAgentFailure(e.Message);
        }
        finally
        {
            if (container is not null)
            {
                pool.Release(container, alreadyReset: reset);
            }
        }
    }

    /// <inheritdoc/>
    public async Task<CompileOutcome> CompileAsync(string language, string source, CancellationToken cancellationToken)
    {
        var lang = Resolve(language);
        var sourceFile = SourceFile(lang, source);
        if (lang.Compile.Count == 0)
        {
            return new CompileOutcome(new CompiledProgram(lang.Id, [sourceFile]), null, "");
        }

        return await OnContainerAsync("Compile", async container =>
        {
            var (failure, text) = await CompileStepAsync(container, lang, [sourceFile], null, cancellationToken);
            if (failure is not null)
            {
                return (new CompileOutcome(null, failure, text), false);
            }

            var files = await Task.Run(() => container.Agent.List(_options.MaxLimits.DiskBytes, TimeSpan.FromSeconds(30)), cancellationToken);
            var kept = files
                .Where(f => lang.Artifacts.Count == 0 || lang.Artifacts.Any(glob => GlobMatches(glob, f.Name)))
                .Select(f => new SandboxFile(f.Name, f.Content, (f.Mode & 0b001_001_001) != 0))
                .ToList();
            return (new CompileOutcome(new CompiledProgram(lang.Id, kept), null, text), false);
        }, message => new CompileOutcome(null, Internal(message), ""), cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<RunResult> ExecuteAsync(CompiledProgram program, ExecutionRequest request, IProgress<OutputChunk>? output, CancellationToken cancellationToken)
    {
        var language = Resolve(program.LanguageId);
        var limits = Clamp(request.Limits);
        return await OnContainerAsync("Execution", async container =>
        {
            foreach (var dir in request.ExtraDirectories)
            {
                container.Agent.Mkdir(dir, 0b111_101_101, (uint)_options.RunUid, (uint)_options.RunUid, TimeSpan.FromSeconds(5));
            }

            var argv = Expand(language.Run, language, limits).Concat(request.Arguments).ToList();
            var outcome = await SandboxProcess.RunAsync(
                container,
                new ProcessSpec(argv, request.Stdin ?? ReadOnlyMemory<byte>.Empty, limits, OutputStreamKind.Stdout, OutputStreamKind.Stderr, MergeStderr: false, AfterExit.Reset, [.. program.Files, .. request.ExtraFiles]),
                _options.RunUid,
                output,
                cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            return (ToResult(outcome, limits, null), true);
        }, cancellationToken);
    }

    private async Task<(RunResult? Failure, string Output)> CompileStepAsync(Container container, LanguageDefinition language, IReadOnlyList<SandboxFile> files, IProgress<OutputChunk>? output, CancellationToken cancellationToken)
    {
        var limits = _options.CompileLimits;
        var outcome = await SandboxProcess.RunAsync(
            container,
            new ProcessSpec(Expand(language.Compile, language, limits), ReadOnlyMemory<byte>.Empty, limits, OutputStreamKind.Compile, OutputStreamKind.Compile, MergeStderr: true, AfterExit.KillLeftovers, files),
            _options.RunUid,
            output,
            cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        var text = Decode(outcome.Stdout);
        if (!outcome.Reply.Started)
        {
            return (Internal(StartFailure(outcome.Reply, language.Compile[0])), text);
        }

        if (outcome.Reply.Exited && outcome.Reply.ExitCode == 0 && outcome.Killed == KillReason.None)
        {
            return (null, text);
        }

        var reason = outcome.Killed switch
        {
            KillReason.WallTime => "\n[sandbox] compilation exceeded its time limit",
            KillReason.Output => "\n[sandbox] compilation output exceeded its limit",
            _ when outcome.Usage.OomKills > 0 => "\n[sandbox] compilation exceeded its memory limit",
            _ => "",
        };
        var result = new RunResult
        {
            Verdict = RunVerdict.CompileError,
            ExitCode = outcome.Reply.Exited ? outcome.Reply.ExitCode : null,
            Signal = outcome.Reply.Signal,
            CompileOutput = text + reason,
            CpuTimeMs = outcome.Usage.CpuNanoseconds / 1_000_000,
            WallTimeMs = outcome.WallTimeMs,
            MemoryKb = outcome.Usage.PeakMemoryBytes / 1024,
        };
        return (result, text + reason);
    }

    private RunResult ToResult(ProcessOutcome o, ResourceLimits limits, string? compileOutput)
    {
        var cpuMs = o.Usage.CpuNanoseconds / 1_000_000;
        if (!o.Reply.Started)
        {
            return Internal(StartFailure(o.Reply, "the program")) with { CompileOutput = compileOutput };
        }

        var signal = o.Reply.Signal;
        var verdict = o.Killed switch
        {
            KillReason.Output => RunVerdict.OutputLimit,
            KillReason.WallTime => RunVerdict.TimeLimit,
            _ when o.Usage.OomKills > 0 => RunVerdict.MemoryLimit,
            _ when signal == SigXcpu || cpuMs > limits.CpuTime.TotalMilliseconds => RunVerdict.TimeLimit,
            _ when signal == SigSys => RunVerdict.SecurityViolation,
            _ when signal == SigKill && o.Usage.PeakMemoryBytes >= limits.MemoryBytes * 95 / 100 => RunVerdict.MemoryLimit,
            _ when o.OutputTruncated => RunVerdict.OutputLimit,
            _ when o.Reply.Exited && o.Reply.ExitCode == 0 => RunVerdict.Ok,
            _ => RunVerdict.RuntimeError,
        };

        return new RunResult
        {
            Verdict = verdict,
            ExitCode = o.Reply.Exited ? o.Reply.ExitCode : null,
            Signal = signal,
            Stdout = Decode(o.Stdout),
            Stderr = Decode(o.Stderr),
            StdoutBytes = o.Stdout,
            StderrBytes = o.Stderr,
            CompileOutput = compileOutput,
            CpuTimeMs = cpuMs,
            WallTimeMs = o.WallTimeMs,
            MemoryKb = o.Usage.PeakMemoryBytes / 1024,
            OutputTruncated = o.OutputTruncated,
        };
    }

    /// <summary>The text of output bytes; an invalid byte becomes U+FFFD, as in the chunks' text.</summary>
    private static string Decode(ReadOnlyMemory<byte> bytes) => bytes.IsEmpty ? "" : Encoding.UTF8.GetString(bytes.Span);

    private static string StartFailure(AgentRunReply reply, string what) => reply.Stage == AgentStage.Exec && reply.Errno == 2
        ? $"{what}: command not found in the sandbox (is its toolchain installed?)"
        : $"the sandbox could not start {what}: step {reply.Stage} failed with errno {reply.Errno}";

    private static RunResult Internal(string message) => new() { Verdict = RunVerdict.InternalError, InternalMessage = message, Stderr = "" };

    private static SandboxFile SourceFile(LanguageDefinition language, string source) => new(language.SourceFile, Encoding.UTF8.GetBytes(source));

    private LanguageDefinition Resolve(string language)
    {
        var lang = _languages.Find(language) ?? throw new UnknownLanguageException(language);
        // Only this language's toolchain is looked for (Available checks every language's, on every read).
        if (!_languages.IsAvailable(lang))
        {
            throw new UnknownLanguageException(language, $"language '{lang.Id}' is in the catalog but its toolchain is not installed on this runner ({string.Join(' ', lang.Packages)})");
        }

        return lang;
    }

    private ResourceLimits Clamp(LimitOverrides? requested)
    {
        if (_options.MaxLimits.Exceeds(requested) is { } problem)
        {
            throw new LimitsExceededException(problem);
        }

        return _options.MaxLimits.ClampTo(requested);
    }

    internal async ValueTask<SlotPool> PoolAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _pool) is { } pool)
        {
            return pool;
        }

        await StartAsync(null, cancellationToken);
        return _pool!;
    }

    internal static List<string> Expand(IReadOnlyList<string> argv, LanguageDefinition language, ResourceLimits limits)
    {
        // A plain loop, and the memory figure only for a command that names it: this runs for every run (the judge's loop).
        string? memoryMb = null;
        var expanded = new List<string>(argv.Count);
        foreach (var arg in argv)
        {
            var a = arg.Replace("{source}", language.SourceFile, StringComparison.Ordinal);
            if (a.Contains("{memoryMb}", StringComparison.Ordinal))
            {
                memoryMb ??= (limits.MemoryBytes / (1024 * 1024)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                a = a.Replace("{memoryMb}", memoryMb, StringComparison.Ordinal);
            }

            expanded.Add(a);
        }

        return expanded;
    }

    internal static bool GlobMatches(string glob, string name)
    {
        if (glob == "*")
        {
            return true;
        }

        if (glob.StartsWith("*.", StringComparison.Ordinal))
        {
            return name.EndsWith(glob[1..], StringComparison.Ordinal);
        }

        return string.Equals(glob, name, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        if (_pool is { } pool)
        {
            await pool.DisposeAsync();
        }

        _startGate.Dispose();
    }
}
