using Sandbox.Remote.Contract;
using Sandbox.Remote.Server;

namespace Sandbox.Remote.Client;

/// <summary>Picks the runner for <c>--runner URL --token-file F</c>: the embedded one, or a remote host.</summary>
public static class SandboxRpcConnector
{
    /// <summary>
    /// No URL: the embedded runner from <paramref name="embedded"/>. A <c>ws://</c> or <c>wss://</c> URL: a connected
    /// <see cref="RemoteSandboxClient"/> (dispose it with <c>await using</c> or through <see cref="IAsyncDisposable"/>).
    /// A <c>nats://</c> or <c>tls://</c> URL: a <see cref="Queue.QueueSandboxClient"/> on the shared work queue, with
    /// <paramref name="tokenFile"/> as the NATS token (or as the password of the user named by <c>SANDBOX_QUEUE_USER</c>),
    /// and <c>SANDBOX_QUEUE_CREDS</c> / <c>SANDBOX_QUEUE_CA</c> naming a NATS credentials file and a CA file.
    /// Anything else: <see cref="SandboxUsageException"/>. A host that cannot be reached: <see cref="SandboxConnectionException"/>.
    /// </summary>
    public static async Task<ISandboxRpc> ConnectAsync(string? runnerUrl, string? tokenFile, Func<ISandboxRpc> embedded, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(embedded);
        if (string.IsNullOrWhiteSpace(runnerUrl))
        {
            return embedded();
        }

        if (!Uri.TryCreate(runnerUrl, UriKind.Absolute, out var uri))
        {
            throw new SandboxUsageException($"--runner '{runnerUrl}' is not a URL; give e.g. ws://127.0.0.1:7070/rpc");
        }

        switch (uri.Scheme)
        {
            case "ws" or "wss":
                break;
            case "nats" or "tls":
                return await ConnectQueueAsync(runnerUrl, tokenFile, cancellationToken).ConfigureAwait(false);
            case "http" or "https":
                throw new SandboxUsageException($"--runner must be a WebSocket URL: use {(uri.Scheme == "https" ? "wss" : "ws")}://{uri.Authority}/rpc");
            default:
                throw new SandboxUsageException($"--runner '{runnerUrl}' must start with ws://, wss:// (a runner host, e.g. ws://127.0.0.1:7070/rpc) or nats:// (a shared queue, e.g. nats://127.0.0.1:4222)");
        }

        string? token = null;
        if (tokenFile is not null)
        {
            try
            {
                token = HostToken.ReadClientToken(tokenFile);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SandboxUsageException($"--token-file: {ex.Message}");
            }
        }

        var client = new RemoteSandboxClient(new RemoteSandboxClientOptions { Endpoint = uri, Token = token });
        try
        {
            await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<ISandboxRpc> ConnectQueueAsync(string runnerUrl, string? tokenFile, CancellationToken cancellationToken)
    {
        var connection = new Queue.QueueConnection
        {
            Url = Queue.QueueConnection.ParseUrl(runnerUrl, "--runner"),
            TokenFile = tokenFile,
            User = Environment.GetEnvironmentVariable("SANDBOX_QUEUE_USER") is { Length: > 0 } user ? user : null,
            CredsFile = Environment.GetEnvironmentVariable("SANDBOX_QUEUE_CREDS") is { Length: > 0 } creds ? creds : null,
            CaFile = Environment.GetEnvironmentVariable("SANDBOX_QUEUE_CA") is { Length: > 0 } ca ? ca : null,
        };
        return await Queue.QueueSandboxClient.ConnectAsync(connection, cancellationToken).ConfigureAwait(false);
    }
}
