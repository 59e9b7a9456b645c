using System.Net.Sockets;
using Sandbox.Runner.Isolation;

namespace Sandbox.Runner.Tests.Isolation;

/// <summary>
/// Connecting to a starting agent: its socket file appears when it binds, a moment before it listens. A connect in
/// between is refused; the host must wait and try again, not give up on the container.
/// </summary>
public sealed class AgentConnectTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("agent-connect-").FullName;

    [Fact]
    public void TryConnect_BeforeTheAgentListens_IsNull_AndConnectsOnceItDoes()
    {
        var path = Path.Combine(_dir, "agent.sock");
        using var server = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(path));
        Assert.True(File.Exists(path));

        Assert.Null(AgentConnection.TryConnect(path));
        Assert.Throws<AgentException>(() => AgentConnection.Connect(path));

        server.Listen(1);
        using var connection = AgentConnection.TryConnect(path);
        Assert.NotNull(connection);
    }

    [Fact]
    public void TryConnect_WhereNoSocketIsYet_IsNull()
    {
        Assert.Null(AgentConnection.TryConnect(Path.Combine(_dir, "missing.sock")));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
