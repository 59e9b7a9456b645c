using System.Collections.Concurrent;
using System.Diagnostics;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Remote.Tests.Fakes;
using Sandbox.Remote.Tests.Infrastructure;
using Sandbox.Runner.Execution;

namespace Sandbox.Remote.Tests.Host;

/// <summary>Connections coming and going: disconnects kill runs, a dying host fails runs fast, clients reconnect.</summary>
public sealed class ConnectionLifecycleTests : IDisposable
{
    private readonly CancellationTokenSource timeout = TestTimeouts.Create(TimeSpan.FromSeconds(90));

    private CancellationToken Timeout => timeout.Token;

    public void Dispose() => timeout.Dispose();

    [Fact]
    public async Task ClientDisconnectsMidRun_TheRunIsCancelled()
    {
        await using var host = await HostHarness.StartAsync(cancellationToken: Timeout);
        var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);
        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":1,"method":"run","params":{"language":"python","source":"block"}}""", Timeout);
        var started = await host.Engine.Started.Reader.ReadAsync(Timeout);

        socket.Abort();

        await Task.Delay(System.Threading.Timeout.Infinite, started.Token).ContinueWith(_ => { }, TaskScheduler.Default).Within(Timeout);
        Assert.True(started.Token.IsCancellationRequested);
        await socket.DisposeAsync();
    }

    [Fact]
    public async Task ClientDisposedMidRun_TheRunIsCancelled()
    {
        await using var host = await HostHarness.StartAsync(cancellationToken: Timeout);
        var client = host.CreateClient();
        var run = client.RunAsync(new RunParams("python", "block"), null, Timeout);
        var started = await host.Engine.Started.Reader.ReadAsync(Timeout);

        await client.DisposeAsync();

        await Task.Delay(System.Threading.Timeout.Infinite, started.Token).ContinueWith(_ => { }, TaskScheduler.Default).Within(Timeout);
        await Assert.ThrowsAnyAsync<Exception>(() => run.Within(Timeout));
    }

    [Fact]
    public async Task HostKilledMidRun_ClientGetsAClearErrorWithinASecond()
    {
        var host = await HostHarness.StartAsync(cancellationToken: Timeout);
        await using var client = host.CreateClient();
        var run = client.RunAsync(new RunParams("python", "block"), null, Timeout);
        await host.Engine.Started.Reader.ReadAsync(Timeout);
        var clock = Stopwatch.StartNew();

        // An already-cancelled token makes Kestrel abort every connection instead of draining them.
        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        var stopping = host.App.StopAsync(now.Token);
        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => run.Within(Timeout));
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
        Assert.Contains(host.RpcUri.Authority, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        await stopping.ContinueWith(_ => { }, TaskScheduler.Default).Within(Timeout);
        await host.DisposeAsync();
    }

    [Fact]
    public async Task HostRestarted_ClientReconnectsOnTheNextRequest()
    {
        var host = await HostHarness.StartAsync(cancellationToken: Timeout);
        var port = host.RpcUri.Port;
        await using var client = new RemoteSandboxClient(new RemoteSandboxClientOptions
        {
            Endpoint = host.RpcUri,
            ConnectAttempts = 5,
            InitialBackoff = TimeSpan.FromMilliseconds(50),
        });
        Assert.Equal("one", (await client.RunAsync(new RunParams("python", "echo:one"), null, Timeout).Within(Timeout)).Stdout);
        await host.DisposeAsync();

        await using var second = await HostHarness.StartAsync(urls: $"http://127.0.0.1:{port}", cancellationToken: Timeout);

        Assert.Equal("two", (await client.RunAsync(new RunParams("python", "echo:two"), null, Timeout).Within(Timeout)).Stdout);
    }

    [Fact]
    public async Task NoHost_ConnectFailsWithAOneLineErrorAfterItsAttempts()
    {
        int port;
        await using (var gone = await HostHarness.StartAsync(cancellationToken: Timeout))
        {
            port = gone.RpcUri.Port;
        }

        await using var client = new RemoteSandboxClient(new RemoteSandboxClientOptions
        {
            Endpoint = new Uri($"ws://127.0.0.1:{port}/rpc"),
            ConnectAttempts = 3,
            InitialBackoff = TimeSpan.FromMilliseconds(20),
        });

        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => client.LanguagesAsync(Timeout).Within(Timeout));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task HostNeverAnswersTheUpgrade_ConnectTimesOutWithAClearError()
    {
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        await using var client = new RemoteSandboxClient(new RemoteSandboxClientOptions
        {
            Endpoint = new Uri($"ws://127.0.0.1:{port}/rpc"),
            ConnectAttempts = 1,
            ConnectTimeout = TimeSpan.FromMilliseconds(300),
        });

        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => client.LanguagesAsync(Timeout).Within(Timeout));

        Assert.Contains("no answer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoHundredRunsFromTwentyConnections_NoneLostOrMixedUp()
    {
        await using var host = await HostHarness.StartAsync(
            new FakeEngine(slots: 8),
            o => o.MaxQueue = 200,
            cancellationToken: Timeout);
        var clients = Enumerable.Range(0, 20).Select(_ => host.CreateClient()).ToList();
        try
        {
            var runs = new List<Task<(string Expected, RunResult Result, string Streamed)>>();
            for (var c = 0; c < clients.Count; c++)
            {
                for (var r = 0; r < 10; r++)
                {
                    runs.Add(RunOneAsync(clients[c], $"c{c}-r{r}"));
                }
            }

            var results = await Task.WhenAll(runs).Within(Timeout);

            Assert.Equal(200, results.Length);
            Assert.All(results, r =>
            {
                Assert.Equal(r.Expected, r.Result.Stdout);
                Assert.Equal(r.Expected, r.Streamed);
            });
            Assert.Equal(200, results.Select(r => r.Expected).Distinct().Count());
            Assert.Equal(200, host.Engine.Requests.Count);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }

        async Task<(string, RunResult, string)> RunOneAsync(RemoteSandboxClient client, string tag)
        {
            var streamed = new ConcurrentQueue<string>();
            var result = await client.RunAsync(new RunParams("python", $"echo:{tag}"), new SandboxRpcBehaviourRecorder(streamed.Enqueue), Timeout);
            return (tag, result, string.Concat(streamed));
        }
    }

    [Fact]
    public async Task Metrics_CountRunsByLanguageAndVerdict()
    {
        await using var host = await HostHarness.StartAsync(cancellationToken: Timeout);
        await using var client = host.CreateClient();
        await client.RunAsync(new RunParams("py", "echo:x"), null, Timeout).Within(Timeout);
        await client.RunAsync(new RunParams("python", "verdict:time-limit"), null, Timeout).Within(Timeout);
        await Assert.ThrowsAsync<SandboxRpcException>(() => client.RunAsync(new RunParams("cobol", "x"), null, Timeout).Within(Timeout));
        using var http = new HttpClient { BaseAddress = host.HttpBase };

        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Timeout);

        Assert.Contains("sandbox_runs_total{kind=\"run\",language=\"python\",verdict=\"ok\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sandbox_runs_total{kind=\"run\",language=\"python\",verdict=\"time-limit\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sandbox_request_errors_total{code=\"unknown-language\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sandbox_run_duration_seconds_count{kind=\"run\"} 2", metrics, StringComparison.Ordinal);
        Assert.Contains("sandbox_slots 4", metrics, StringComparison.Ordinal);
        Assert.Contains("sandbox_busy_slots 0", metrics, StringComparison.Ordinal);
        Assert.Contains("sandbox_queue_depth 0", metrics, StringComparison.Ordinal);
        Assert.Contains("sandbox_connections 1", metrics, StringComparison.Ordinal);
    }

    private sealed class SandboxRpcBehaviourRecorder(Action<string> record) : IProgress<OutputEvent>
    {
        public void Report(OutputEvent value) => record(value.Text);
    }
}
