namespace Sandbox.Remote.Client;

/// <summary>Settings of a <see cref="RemoteSandboxClient"/>.</summary>
public sealed class RemoteSandboxClientOptions
{
    /// <summary>The runner's endpoint, e.g. <c>ws://127.0.0.1:7070/rpc</c> or <c>wss://runner.example/rpc</c>.</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>Bearer token sent in the <c>Authorization</c> header; null sends none (fine for a loopback-only host).</summary>
    public string? Token { get; init; }

    /// <summary>How long one connection attempt may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Connection attempts before giving up (each later one waits twice as long as the last). Default 3.</summary>
    public int ConnectAttempts { get; init; } = 3;

    /// <summary>Wait before the second attempt. Default 200 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>WebSocket keep-alive: a ping this often, and the connection is dropped when no pong comes back within it. Default 10 s.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(10);
}
