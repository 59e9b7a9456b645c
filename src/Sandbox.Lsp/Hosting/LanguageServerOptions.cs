using Microsoft.Extensions.Logging;
using Sandbox.Remote.Contract;

namespace Sandbox.Lsp.Hosting;

/// <summary>Where a session's runner is: the embedded one when <see cref="Url"/> is null, else a runner host.</summary>
/// <param name="Url">Runner host URL (<c>ws://host:port/rpc</c> or <c>http://host:port</c>), or null for the embedded runner.</param>
/// <param name="TokenFile">File holding the bearer token for the runner host, or null.</param>
public sealed record RunnerEndpoint(string? Url, string? TokenFile);

/// <summary>
/// Makes the <see cref="ISandboxRpc"/> for an endpoint. The session owns what it returns: it disposes it (when disposable)
/// on reconnect and at the end of the session, so a host sharing one instance returns a non-disposable wrapper.
/// Throwing (or an instance whose calls throw connection errors) makes the server tell the user what to fix.
/// </summary>
public delegate Task<ISandboxRpc> SandboxRpcFactory(RunnerEndpoint endpoint, CancellationToken cancellationToken);

/// <summary>Options of the language server, shared by all sessions of a host.</summary>
public sealed class LanguageServerOptions
{
    /// <summary>
    /// The runner (the <c>--runner</c> / <c>--token-file</c> options). Default: embedded. A stdio client's settings may
    /// name another; a WebSocket session always uses this one (see <see cref="ClientRunnerChoice"/>).
    /// </summary>
    public RunnerEndpoint DefaultRunner { get; set; } = new(null, null);

    /// <summary>Lowest level forwarded to the client as <c>window/logMessage</c> until the client sets <c>trace</c>. Default: Information.</summary>
    public LogLevel ClientLogLevel { get; set; } = LogLevel.Information;

    /// <summary>How long connecting to a runner host may take before the user is told it is down. Default: 15 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long starting the embedded runner may take (the first start provisions its containers). Default: 5 min.</summary>
    public TimeSpan EmbeddedStartTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long to wait for the client to answer <c>window/workDoneProgress/create</c>. Default: 5 s.</summary>
    public TimeSpan ProgressCreateTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Version reported in <c>serverInfo</c>.</summary>
    public string Version { get; set; } = typeof(LanguageServerOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Throws when an option is out of range (checked at start-up).</summary>
    public void Validate()
    {
        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "must be positive");
        }

        if (EmbeddedStartTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(EmbeddedStartTimeout), EmbeddedStartTimeout, "must be positive");
        }

        if (ProgressCreateTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ProgressCreateTimeout), ProgressCreateTimeout, "must be positive");
        }
    }
}
