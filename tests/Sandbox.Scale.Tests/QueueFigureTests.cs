using System.Diagnostics;
using System.Text;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Remote.Queue;
using Sandbox.Runner.Execution;
using Sandbox.Scale.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sandbox.Scale.Tests;

/// <summary>
/// The figures of the queue, in one run on this machine: jobs per second for python <c>print(1)</c> with 1, 2 and 3 hosts
/// (one slot each, 10 clients), and the latency the queue adds over the direct WebSocket path to the same host.
/// Printed to the test output and to build/scale-figures.txt; fails if any job is lost or wrong.
/// </summary>
[Trait("Category", "Sandbox")]
[Collection(QueueClusterCollection.Name)]
public sealed class QueueFigureTests(QueueCluster cluster, ITestOutputHelper output) : IDisposable
{
    private const int Clients = 10;
    private const int JobsPerFigure = 150;
    private const int LatencySamples = 60;

    private readonly CancellationTokenSource timeout = new(TimeSpan.FromMinutes(4));

    private CancellationToken Timeout => timeout.Token;

    public void Dispose() => timeout.Dispose();

    [Fact]
    public async Task PrintOne_ThroughputWithOneTwoThreeHosts_AndQueueLatencyAgainstWebSocket()
    {
        if (cluster.Nats is null)
        {
            await cluster.StartNatsAsync(Timeout);
        }

        var report = new StringBuilder();
        report.AppendLine($"python print(1) through the NATS queue, {Clients} clients, one slot per host, {Environment.ProcessorCount} cores:");
        var clients = new List<QueueSandboxClient>();
        for (var i = 0; i < Clients; i++)
        {
            clients.Add(await cluster.ClientAsync(Timeout));
        }

        try
        {
            await cluster.EnsureHostsAsync(1, Timeout);
            await cluster.StopHostsFromAsync(1, Timeout);
            await ThroughputAsync(clients, Clients);

            var ws = new RemoteSandboxClient(new RemoteSandboxClientOptions { Endpoint = new Uri($"ws://{cluster.HostAddress(0).Authority}/rpc") });
            try
            {
                // Same host, same engine, one job at a time: the difference is the queue's own cost.
                var queueLatency = new List<double>();
                var wsLatency = new List<double>();
                await OnceAsync(ws);
                for (var i = 0; i < LatencySamples; i++)
                {
                    wsLatency.Add(await OnceAsync(ws));
                    queueLatency.Add(await OnceAsync(clients[0]));
                }

                // Pairs run back to back, so the median of their differences cancels most of the machine's drift.
                var added = Median(queueLatency.Zip(wsLatency, (q, w) => q - w).ToList());
                var q = Median(queueLatency);
                var w = Median(wsLatency);
                report.AppendLine($"  latency, one job at a time on one host ({LatencySamples} interleaved pairs): websocket median {w:0.0} ms, queue median {q:0.0} ms; added by the queue: median of pair differences {added:0.0} ms");
            }
            finally
            {
                await ws.DisposeAsync();
            }

            for (var hosts = 1; hosts <= 3; hosts++)
            {
                await cluster.EnsureHostsAsync(hosts, Timeout);
                await ThroughputAsync(clients, Clients);
                var rate = await ThroughputAsync(clients, JobsPerFigure);
                report.AppendLine($"  {hosts} host{(hosts == 1 ? "" : "s")}: {rate:0.0} jobs/s ({JobsPerFigure} jobs)");
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }

        output.WriteLine(report.ToString());
        var file = Path.Combine(TestEnvironment.RepositoryRoot(), "build", "scale-figures.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, report.ToString(), Timeout);
    }

    private async Task<double> OnceAsync(ISandboxRpc rpc)
    {
        var clock = Stopwatch.StartNew();
        var result = await rpc.RunAsync(new RunParams("python", "print(1)"), null, Timeout);
        clock.Stop();
        Assert.Equal("1\n", result.Stdout);
        return clock.Elapsed.TotalMilliseconds;
    }

    private async Task<double> ThroughputAsync(IReadOnlyList<QueueSandboxClient> clients, int jobs)
    {
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(async client =>
        {
            while (Interlocked.Increment(ref next) < jobs)
            {
                var result = await client.RunAsync(new RunParams("python", "print(1)"), null, Timeout);
                Assert.Equal(RunVerdict.Ok, result.Verdict);
                Assert.Equal("1\n", result.Stdout);
            }
        })).WaitAsync(Timeout);
        return jobs / clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
