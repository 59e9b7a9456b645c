using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Sandbox.Lsp.Hosting;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using StreamJsonRpc;

namespace Sandbox.Lsp.Features.Configuration;

/// <summary>The runner cannot be reached or cannot run code here; the message says what to fix.</summary>
internal sealed class RunnerUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A session's connection to its runner: made lazily through the <see cref="SandboxRpcFactory"/>, remade when the
/// endpoint changes or after the connection broke, with the language list cached per connection.
/// </summary>
internal sealed class RunnerConnection(
    SandboxRpcFactory factory, RunnerEndpoint endpoint, LanguageServerOptions options, ClientRunnerChoice runnerChoice, ILogger logger) : IAsyncDisposable
{
    /// <summary>Requests above this size to a runner host get a connection of their own (hosts accept 64 KiB at the least; JSON escaping adds to the source).</summary>
    internal const long SharedConnectionMaxBytes = 32 * 1024;

    private readonly SemaphoreSlim gate = new(1, 1);
    private ISandboxRpc? rpc;
    private IReadOnlyList<LanguageInfo>? languages;

    /// <summary>The endpoint in use.</summary>
    public RunnerEndpoint Endpoint { get; private set; } = endpoint;

    /// <summary>Connects (if not connected) and returns the runner.</summary>
    public async Task<ISandboxRpc> GetAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (rpc is not null)
            {
                return rpc;
            }

            rpc = await ConnectAsync(Endpoint, Endpoint.Url is null ? options.EmbeddedStartTimeout : options.ConnectTimeout, cancellationToken);
            return rpc;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<ISandboxRpc> ConnectAsync(RunnerEndpoint endpoint, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connectTimeout);
        try
        {
            logger.LogInformation("connecting to {Runner}", Describe(endpoint));
            // WaitAsync: a factory that ignores its token must not hang the session.
            return await factory(endpoint, timeout.Token).WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unavailable(new TimeoutException($"no connection within {connectTimeout.TotalSeconds:0} s"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw Unavailable(ex);
        }
    }

    /// <summary>The runner's languages, fetched once per connection.</summary>
    public async Task<IReadOnlyList<LanguageInfo>> GetLanguagesAsync(CancellationToken cancellationToken)
    {
        if (languages is { } cached)
        {
            return cached;
        }

        var result = await CallAsync((r, ct) => r.LanguagesAsync(ct), cancellationToken);
        languages = result.Languages;
        return languages;
    }

    /// <summary>
    /// Calls the runner, turning connection failures into <see cref="RunnerUnavailableException"/> (and dropping the
    /// broken connection so the next call reconnects).
    /// </summary>
    public async Task<T> CallAsync<T>(Func<ISandboxRpc, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var runner = await GetAsync(cancellationToken);
        try
        {
            return await call(runner, cancellationToken);
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            await ResetAsync(runner);
            throw Unavailable(ex);
        }
    }

    /// <summary>
    /// Like the other <c>CallAsync</c>, but a request of more than <see cref="SharedConnectionMaxBytes"/> to a runner
    /// host goes over a connection of its own. A host closes the connection that carried a message above its
    /// <c>--max-message-size</c> (64 KiB at the least), which it does not tell clients; on the shared connection that
    /// failed every other run of the session with it.
    /// </summary>
    public async Task<T> CallAsync<T>(long requestBytes, Func<ISandboxRpc, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var endpoint = Endpoint;
        if (endpoint.Url is null || requestBytes <= SharedConnectionMaxBytes)
        {
            return await CallAsync(call, cancellationToken);
        }

        var own = await ConnectAsync(endpoint, options.ConnectTimeout, cancellationToken);
        try
        {
            return await call(own, cancellationToken);
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            logger.LogWarning(ex, "the runner closed the connection of a {Bytes}-byte request", requestBytes);
            throw new RunnerUnavailableException(
                $"Sandbox: the runner host at {endpoint.Url} closed the connection that carried this request ({requestBytes / 1024} KiB of source and input), " +
                $"probably because it is larger than the host accepts (`sandbox host --max-message-size`). Other runs are not affected. ({ex.Message})", ex);
        }
        finally
        {
            await DisposeRunnerAsync(own);
        }
    }

    /// <summary>
    /// Switches to another endpoint; returns false when it is the same one. Throws when the client may not choose
    /// the runner (<see cref="ClientRunnerChoice.Denied"/>): the caller must not get this far for such a session.
    /// </summary>
    public async Task<bool> ReconfigureAsync(RunnerEndpoint newEndpoint, CancellationToken cancellationToken)
    {
        if (runnerChoice != ClientRunnerChoice.Allowed)
        {
            // Fail closed: a WebSocket session keeps the server's runner, whatever a caller asks for.
            throw new InvalidOperationException("this session's runner is fixed by the server");
        }

        await gate.WaitAsync(cancellationToken);
        ISandboxRpc? old;
        try
        {
            if (newEndpoint == Endpoint)
            {
                return false;
            }

            logger.LogInformation("runner changed from {Old} to {New}", Describe(Endpoint), Describe(newEndpoint));
            Endpoint = newEndpoint;
            old = rpc;
            rpc = null;
            languages = null;
        }
        finally
        {
            gate.Release();
        }

        await DisposeRunnerAsync(old);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        var old = rpc;
        rpc = null;
        await DisposeRunnerAsync(old);
        gate.Dispose();
    }

    /// <summary>Exceptions that mean the runner is unreachable or unusable, as opposed to a refused request.</summary>
    public static bool IsConnectionFailure(Exception ex) => ex is ConnectionLostException or WebSocketException or HttpRequestException
        or SocketException or IOException or TimeoutException or SandboxUnavailableException or ObjectDisposedException
        or RunnerUnavailableException or SandboxConnectionException;

    private async Task ResetAsync(ISandboxRpc broken)
    {
        await gate.WaitAsync();
        try
        {
            if (!ReferenceEquals(rpc, broken))
            {
                return;
            }

            rpc = null;
            languages = null;
        }
        finally
        {
            gate.Release();
        }

        await DisposeRunnerAsync(broken);
    }

    private RunnerUnavailableException Unavailable(Exception ex)
    {
        if (ex is RunnerUnavailableException already)
        {
            return already;
        }

        var message = (Endpoint.Url, runnerChoice) switch
        {
            (null, ClientRunnerChoice.Allowed) =>
                $"Sandbox: the embedded runner cannot run code here ({ex.Message}). Run the editor on a Linux machine with LXC " +
                "(see docs/), or set the sandbox.runnerUrl setting (or --runner) to a runner host started with `sandbox host`.",
            (null, _) =>
                $"Sandbox: the server's embedded runner cannot run code on its machine ({ex.Message}). The runner is set where " +
                "the server was started (`sandbox lsp --ws ... --runner URL`): ask whoever runs it to fix that.",
            (_, ClientRunnerChoice.Allowed) =>
                $"Sandbox: cannot reach the runner host at {Endpoint.Url} ({ex.Message}). Start it with `sandbox host`, " +
                "or fix the sandbox.runnerUrl and sandbox.tokenFile settings (or --runner / --token-file).",
            _ =>
                $"Sandbox: the server cannot reach its runner host at {Endpoint.Url} ({ex.Message}). The runner is set where " +
                "the server was started (`sandbox lsp --ws ... --runner URL --token-file F`): start that runner host (`sandbox host`) or fix those options.",
        };
        logger.LogWarning(ex, "runner unavailable");
        return new RunnerUnavailableException(message, ex);
    }

    private async Task DisposeRunnerAsync(ISandboxRpc? runner)
    {
        try
        {
            await runner.DisposeIfDisposableAsync();
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            logger.LogDebug("closing the old runner connection: {Reason}", ex.Message);
        }
    }

    private static string Describe(RunnerEndpoint endpoint) => endpoint.Url ?? "the embedded runner";
}
