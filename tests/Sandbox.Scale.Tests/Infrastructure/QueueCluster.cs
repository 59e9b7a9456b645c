using System.Globalization;
using Sandbox.Remote.Queue;

namespace Sandbox.Scale.Tests.Infrastructure;

/// <summary>
/// A real <c>nats-server -js</c> on 127.0.0.1 and three <c>sandbox host --queue</c> processes on this machine, each with one
/// slot of the real engine (LXC). Tests may kill, stop and restart members; <see cref="EnsureHostsAsync"/> brings the cluster back.
/// </summary>
public sealed class QueueCluster : IAsyncLifetime
{
    /// <summary>The ack wait the hosts run with: how late a dead host's jobs start again.</summary>
    public static readonly TimeSpan AckWait = TimeSpan.FromSeconds(3);

    /// <summary>The CPU time the hosts allow at most (a job asking for more is clamped to it).</summary>
    public const double MaxTimeLimitSeconds = 3;

    private readonly string storeDir = Directory.CreateTempSubdirectory("sandbox-scale-nats-").FullName;
    private readonly ChildProcess?[] hosts = new ChildProcess?[3];

    /// <summary>The NATS server's port.</summary>
    public int NatsPort { get; } = TestEnvironment.FreePort();

    /// <summary>The queue URL.</summary>
    public string NatsUrl => $"nats://127.0.0.1:{NatsPort}";

    /// <summary>The NATS server process (null while stopped).</summary>
    public ChildProcess? Nats { get; private set; }

    /// <summary>The names hosts run under.</summary>
    public static string HostName(int index) => $"host{index + 1}";

    /// <summary>Host <paramref name="index"/>'s process.</summary>
    public ChildProcess Host(int index) => hosts[index] ?? throw new InvalidOperationException($"{HostName(index)} is not running");

    /// <summary>Host <paramref name="index"/>'s HTTP address (for /metrics and /rpc).</summary>
    public Uri HostAddress(int index) => addresses[index] ?? throw new InvalidOperationException($"{HostName(index)} is not running");

    private readonly Uri?[] addresses = new Uri?[3];

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await StartNatsAsync(timeout.Token);
        await EnsureHostsAsync(3, timeout.Token);
    }

    public async Task DisposeAsync()
    {
        foreach (var host in hosts)
        {
            if (host is not null)
            {
                await host.DisposeAsync();
            }
        }

        if (Nats is not null)
        {
            await Nats.DisposeAsync();
        }

        Directory.Delete(storeDir, recursive: true);
    }

    /// <summary>Starts the NATS server (again) on the same port and store, and waits until it is ready.</summary>
    public async Task StartNatsAsync(CancellationToken cancellationToken)
    {
        Nats = ChildProcess.Start(TestEnvironment.NatsServer(), ["-js", "-a", "127.0.0.1", "-p", NatsPort.ToString(CultureInfo.InvariantCulture), "-sd", storeDir]);
        await Nats.WaitForLineAsync("Server is ready", cancellationToken);
    }

    /// <summary>Stops the NATS server with SIGKILL (as a crash would) and waits for it to be gone.</summary>
    public async Task KillNatsAsync(CancellationToken cancellationToken)
    {
        var nats = Nats ?? throw new InvalidOperationException("NATS is not running");
        nats.Kill();
        await nats.WaitForExitAsync(cancellationToken);
        await nats.DisposeAsync();
        Nats = null;
    }

    /// <summary>Starts hosts 1..<paramref name="count"/> that are not running, and waits until each consumes the queue.</summary>
    public async Task EnsureHostsAsync(int count, CancellationToken cancellationToken)
    {
        var starting = new List<Task>();
        for (var i = 0; i < count; i++)
        {
            if (hosts[i] is { HasExited: false })
            {
                continue;
            }

            if (hosts[i] is { } dead)
            {
                await dead.DisposeAsync();
            }

            starting.Add(StartHostAsync(i, cancellationToken));
        }

        await Task.WhenAll(starting);
    }

    /// <summary>Stops hosts from <paramref name="count"/> on (SIGTERM, drained), so exactly <paramref name="count"/> run.</summary>
    public async Task StopHostsFromAsync(int count, CancellationToken cancellationToken)
    {
        for (var i = count; i < hosts.Length; i++)
        {
            if (hosts[i] is { } host)
            {
                if (!host.HasExited)
                {
                    host.Terminate();
                    await host.WaitForExitAsync(cancellationToken);
                }

                await host.DisposeAsync();
                hosts[i] = null;
                addresses[i] = null;
            }
        }
    }

    /// <summary>A connected queue client.</summary>
    public Task<QueueSandboxClient> ClientAsync(CancellationToken cancellationToken) =>
        QueueSandboxClient.ConnectAsync(new QueueConnection { Url = new Uri(NatsUrl) }, cancellationToken);

    /// <summary>Reads host <paramref name="index"/>'s /metrics.</summary>
    public async Task<string> MetricsAsync(int index, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(new Uri(HostAddress(index), "/metrics"), cancellationToken);
    }

    private async Task StartHostAsync(int index, CancellationToken cancellationToken)
    {
        var host = ChildProcess.Start(TestEnvironment.SandboxExecutable(),
        [
            "host",
            "--urls", "http://127.0.0.1:0",
            "--slots", "1",
            "--max-time-limit", MaxTimeLimitSeconds.ToString(CultureInfo.InvariantCulture),
            "--queue", NatsUrl,
            "--queue-ack-wait", AckWait.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            "--host-id", HostName(index),
            "--drain-timeout", "60",
        ]);
        hosts[index] = host;
        var listening = await host.WaitForLineAsync("Now listening on: ", cancellationToken);
        addresses[index] = new Uri(listening[(listening.IndexOf("http://", StringComparison.Ordinal))..].Trim());
        await host.WaitForLineAsync("Consuming the queue", cancellationToken);
    }
}

/// <summary>The scale tests share one cluster and run one at a time (they kill and restart its members).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QueueClusterCollection : ICollectionFixture<QueueCluster>
{
    public const string Name = "queue-cluster";
}
