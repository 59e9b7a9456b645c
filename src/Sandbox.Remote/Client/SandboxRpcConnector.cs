using Sandbox.Remote.Contract;
using Sandbox.Remote.Server;

namespace Sandbox.Remote.Client;

/// <summary>Picks the runner for <c>--runner URL --token-file F</c>: the embedded one, or a remote host.</summary>
public static class SandboxRpcConnector
{
    /// <summary>
    /// No URL: the embedded runner from <paramref name="embedded"/>. A <c>ws://</c> or <c>wss://</c> URL: a connected
    /// <see cref="RemoteSandboxClient"/> (dispose it with <c>await using</c> or through <see cref="IAsyncDisposable"/>).
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
            case "nats":
                throw new SandboxUsageException("--runner nats:// (a shared work queue) is not supported yet; give a runner host's ws:// or wss:// URL");
            case "http" or "https":
                throw new SandboxUsageException($"--runner must be a WebSocket URL: use {(uri.Scheme == "https" ? "wss" : "ws")}://{uri.Authority}/rpc");
            default:
                throw new SandboxUsageException($"--runner '{runnerUrl}' must start with ws:// or wss:// (e.g. ws://127.0.0.1:7070/rpc)");
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
}
