using System.Net;
using System.Net.Sockets;

namespace Sandbox.Lsp.Tests.Infrastructure;

/// <summary>
/// A TCP listener on 127.0.0.1 that counts the connections made to it and never answers them: stands for a host a
/// client would like the server to connect to (a server-side request forgery target).
/// </summary>
internal sealed class ConnectionTrap : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> accepted = [];
    private readonly TaskCompletionSource firstConnection = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConnectionTrap()
    {
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    /// <summary>A runner-host URL pointing here.</summary>
    public string Url => $"ws://127.0.0.1:{Port}/rpc";

    /// <summary>Completes when something connects.</summary>
    public Task FirstConnection => firstConnection.Task;

    /// <summary>Connections accepted so far, plus one waiting to be accepted.</summary>
    public int Connections
    {
        get
        {
            lock (accepted)
            {
                return accepted.Count + (listener.Server.IsBound && listener.Pending() ? 1 : 0);
            }
        }
    }

    public void Dispose()
    {
        // The accept loop ends with the listener.
        listener.Stop();
        lock (accepted)
        {
            accepted.ForEach(c => c.Dispose());
        }
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            lock (accepted)
            {
                accepted.Add(client);
            }

            firstConnection.TrySetResult();
        }
    }
}
