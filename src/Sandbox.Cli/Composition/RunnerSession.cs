using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Remote.InProcess;
using Sandbox.Runner;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Cli.Composition;

/// <summary>
/// The runner a command talks to: the embedded engine (this machine's LXC, the default) or a remote
/// runner host (<c>--runner ws://...</c>). Either way only <see cref="ISandboxRpc"/> is visible.
/// </summary>
internal sealed class RunnerSession : IAsyncDisposable
{
    private readonly ServiceProvider? _services;

    private RunnerSession(ISandboxRpc rpc, ServiceProvider? services)
    {
        Rpc = rpc;
        _services = services;
    }

    public ISandboxRpc Rpc { get; }

    /// <summary>The embedded engine, when there is one (null for a remote runner).</summary>
    public CodeRunner? Engine => _services?.GetService<CodeRunner>();

    /// <summary>Registers everything the embedded runner needs (engine, judging, in-process RPC).</summary>
    public static IServiceCollection AddEmbeddedRunner(IServiceCollection services, int? slots = null)
    {
        var engine = new SandboxOptions();
        if (slots is { } s)
        {
            engine.Slots = s;
        }

        services.AddSingleton(engine);
        services.AddSandboxRunner();
        services.AddSandboxJudging();
        // The RPC layer enforces the same maximum the engine does (a client may only lower it).
        services.AddSandboxRpc(o =>
        {
            o.Slots = engine.Slots;
            o.MaxLimits = engine.MaxLimits;
        });
        return services;
    }

    /// <summary>Opens the runner for <paramref name="runnerUrl"/> (null: embedded).</summary>
    /// <param name="runnerUrl">A runner host or queue URL; null for the embedded runner.</param>
    /// <param name="tokenFile">The file holding the runner's token, if any.</param>
    /// <param name="slots">Slots of the embedded runner (null: its default).</param>
    /// <param name="logLevel">The least level the embedded runner logs to stderr.</param>
    /// <param name="logErrors">
    /// Whether the embedded runner's errors reach stderr. A command that reports each failure itself in one
    /// <c>sandbox:</c> line passes false unless asked to be verbose; a server (the language server) passes true.
    /// </param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    public static async Task<RunnerSession> OpenAsync(string? runnerUrl, string? tokenFile, int? slots, LogLevel logLevel, bool logErrors, CancellationToken cancellationToken)
    {
        ServiceProvider? services = null;
        var rpc = await SandboxRpcConnector.ConnectAsync(
            runnerUrl,
            tokenFile,
            () =>
            {
                var collection = new ServiceCollection();
                collection.AddLogging(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(logLevel)
                    .AddFilter("Microsoft", LogLevel.Warning)
                    // Without errors, warnings still show (a malformed problem skipped, a toolchain missing): they end in no failure.
                    .AddFilter("Sandbox", level => level >= logLevel && (logErrors || level < LogLevel.Error)));
                // Logs go to stderr: stdout belongs to the program's output and --json.
                collection.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
                AddEmbeddedRunner(collection, slots);
                services = collection.BuildServiceProvider();
                return services.GetRequiredService<ISandboxRpc>();
            },
            cancellationToken);
        return new RunnerSession(rpc, services);
    }

    /// <summary>Provisions and starts the embedded engine with progress on stderr (no-op for a remote runner).</summary>
    public async Task StartAsync(TextWriter progressWriter, CancellationToken cancellationToken)
    {
        if (Engine is { } engine)
        {
            await engine.StartAsync(new SyncProgress(line => progressWriter.WriteLine($"sandbox: {line}")), cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Rpc is IAsyncDisposable remote && _services is null)
        {
            await remote.DisposeAsync();
        }

        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }

    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
