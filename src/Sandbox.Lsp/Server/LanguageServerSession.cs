using Microsoft.Extensions.Logging;
using Sandbox.Lsp.Features.Configuration;
using Sandbox.Lsp.Features.Logging;
using Sandbox.Lsp.Features.Runs;
using Sandbox.Lsp.Hosting;
using StreamJsonRpc;

namespace Sandbox.Lsp.Server;

/// <summary>
/// One client's language server session over any transport. <see cref="RunAsync"/> serves until the client sends
/// <c>exit</c> or the connection closes, and returns the process exit code LSP prescribes: 0 after <c>shutdown</c>, else 1.
/// </summary>
public sealed class LanguageServerSession : IAsyncDisposable
{
    private readonly JsonRpc rpc;
    private readonly SessionContext context;
    private readonly LanguageServerTarget target;
    private readonly ILogger hostLogger;
    private readonly TaskCompletionSource<int> exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource lifetime = new();
    private readonly List<Task> background = [];
    private readonly List<string> tokenFiles = [];

    /// <summary>
    /// Creates a session over a message handler made by <see cref="Transport.LspTransport"/>. <paramref name="fileAccess"/>
    /// says whether the client may name files of this machine for the server to read: allow it only for a client
    /// that is the user who started the server (stdio), never for one across a network. <paramref name="runnerChoice"/>
    /// says whether the client's settings may name the runner to connect to: the same rule, since a client across a network
    /// that picks the runner URL makes this server open connections wherever it says.
    /// </summary>
    public LanguageServerSession(
        IJsonRpcMessageHandler handler,
        SandboxRpcFactory runnerFactory,
        LanguageServerOptions options,
        ILoggerFactory loggerFactory,
        ServerFileAccess fileAccess,
        ClientRunnerChoice runnerChoice)
    {
        options.Validate();
        hostLogger = loggerFactory.CreateLogger<LanguageServerSession>();
        rpc = new LspJsonRpc(handler, hostLogger)
        {
            // Handlers start in arrival order (didOpen before the executeCommand that follows it); their awaits run free.
            SynchronizationContext = new Microsoft.VisualStudio.Threading.NonConcurrentSynchronizationContext(sticky: false),
            CancelLocallyInvokedMethodsWhenConnectionIsClosed = true,
        };
        var client = new LanguageClient(rpc, hostLogger);
        var logger = new ClientLogger(hostLogger, client, options.ClientLogLevel);
        context = new SessionContext
        {
            Client = client,
            Logger = logger,
            Options = options,
            Runner = new RunnerConnection(runnerFactory, options.DefaultRunner, options, runnerChoice, logger),
            FileAccess = fileAccess,
            RunnerChoice = runnerChoice,
        };
        target = new LanguageServerTarget(context, this);
        rpc.AddLocalRpcTarget(target, new JsonRpcTargetOptions { NotifyClientOfEvents = false, AllowNonPublicInvocation = false });
    }

    /// <summary>Serves until <c>exit</c> or disconnection; returns 0 when <c>exit</c> followed <c>shutdown</c>, else 1.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        rpc.StartListening();
        using var registration = cancellationToken.Register(() => exit.TrySetResult(target.ShutdownReceived ? 0 : 1));
        var finished = await Task.WhenAny(exit.Task, rpc.Completion);
        if (finished == rpc.Completion)
        {
            hostLogger.LogInformation("client disconnected{Without}", target.ShutdownReceived ? "" : " without shutdown");
            exit.TrySetResult(target.ShutdownReceived ? 0 : 1);
        }

        return await exit.Task;
    }

    /// <summary>Stops every run, closes the connection and the runner.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAllRunsAsync();
        await lifetime.CancelAsync();
        await context.Client.DisposeAsync();
        rpc.Dispose();
        try
        {
            await Task.WhenAll(background);
        }
        catch (OperationCanceledException)
        {
            // Background probes end with the session.
        }

        await context.Runner.DisposeAsync();
        foreach (var file in tokenFiles)
        {
            File.Delete(file);
        }

        lifetime.Dispose();
    }

    internal void RequestExit(int code) => exit.TrySetResult(code);

    internal void StartBackground(Func<CancellationToken, Task> work)
    {
        lock (background)
        {
            background.Add(Task.Run(() => work(lifetime.Token)));
        }
    }

    internal async Task StopAllRunsAsync()
    {
        foreach (var run in context.Runs.All())
        {
            run.Stop(RunStopReason.SessionEnded);
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await context.Runner.CallAsync((r, ct) => r.CancelAsync(new Remote.Contract.CancelParams(run.RunId), ct), timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or RemoteInvocationException || RunnerConnection.IsConnectionFailure(ex))
            {
                hostLogger.LogWarning("could not cancel run {RunId}: {Reason}", run.RunId, ex.Message);
            }
        }
    }

    /// <summary>Writes a token given in settings to a private file for the runner factory; deleted with the session.</summary>
    internal string WriteTokenFile(string token)
    {
        var path = Path.Combine(Path.GetTempPath(), $"sandbox-lsp-{Guid.NewGuid():N}.token");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(token);
        }

        tokenFiles.Add(path);
        return path;
    }
}
