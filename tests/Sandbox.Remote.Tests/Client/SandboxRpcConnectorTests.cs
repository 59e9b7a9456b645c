using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Remote.Tests.Infrastructure;

namespace Sandbox.Remote.Tests.Client;

public sealed class SandboxRpcConnectorTests : IDisposable
{
    private readonly CancellationTokenSource timeout = TestTimeouts.Create();

    private CancellationToken Timeout => timeout.Token;

    public void Dispose() => timeout.Dispose();

    [Fact]
    public async Task Connect_NoUrl_ReturnsTheEmbeddedRunner()
    {
        var embedded = new EmbeddedMarker();

        var rpc = await SandboxRpcConnector.ConnectAsync(null, null, () => embedded, Timeout);

        Assert.Same(embedded, rpc);
    }

    [Theory]
    [InlineData("nats://queue:4222", "without credentials")]
    [InlineData("nats://user:secret@127.0.0.1:4222", "no user or password")]
    [InlineData("nats://127.0.0.1:4222/x", "no path")]
    [InlineData("http://127.0.0.1:7070", "ws://127.0.0.1:7070/rpc")]
    [InlineData("https://runner.example", "wss://runner.example/rpc")]
    [InlineData("127.0.0.1:7070", "ws://")]
    [InlineData("tcp://x:1", "ws://")]
    public async Task Connect_NotAWebSocketUrl_IsAUsageError(string url, string hint)
    {
        var error = await Assert.ThrowsAsync<SandboxUsageException>(() => SandboxRpcConnector.ConnectAsync(url, null, () => new EmbeddedMarker(), Timeout));

        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_MissingTokenFile_IsAUsageError()
    {
        var error = await Assert.ThrowsAsync<SandboxUsageException>(() =>
            SandboxRpcConnector.ConnectAsync("ws://127.0.0.1:1/rpc", "/nonexistent/token", () => new EmbeddedMarker(), Timeout));

        Assert.Contains("/nonexistent/token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_WsUrlWithTokenFile_ReturnsAConnectedRemoteClient()
    {
        const string token = "connector-token-0123456789";
        await using var host = await HostHarness.StartAsync(token: token, cancellationToken: Timeout);
        var file = HostHarness.WriteTokenFile(token);
        try
        {
            var rpc = await SandboxRpcConnector.ConnectAsync(host.RpcUri.ToString(), file, () => new EmbeddedMarker(), Timeout);
            await using var client = Assert.IsType<RemoteSandboxClient>(rpc);

            var result = await client.RunAsync(new RunParams("python", "echo:remote"), null, Timeout).Within(Timeout);

            Assert.Equal("remote", result.Stdout);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private sealed class EmbeddedMarker : ISandboxRpc
    {
        public Task<Runner.Execution.RunResult> RunAsync(RunParams request, IProgress<OutputEvent>? output, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<Runner.Judging.CheckResult> CheckAsync(CheckParams request, IProgress<Runner.Judging.TestResult>? tests, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<CancelResult> CancelAsync(CancelParams request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<LanguagesResult> LanguagesAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ProblemsResult> ProblemsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<Runner.Judging.ProblemInfo> ProblemAsync(ProblemParams request, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
