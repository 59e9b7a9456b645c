using System.Diagnostics;
using Sandbox.Remote.Contract;
using Sandbox.Remote.Queue;
using Sandbox.Scale.Tests.Infrastructure;

namespace Sandbox.Scale.Tests;

/// <summary>
/// Back-pressure and the queue's figures in <c>/metrics</c>, on a queue of its own (subject prefix <c>bp</c>) held to two
/// pending jobs and 4 KiB per job by its one host.
/// </summary>
[Trait("Category", "Sandbox")]
[Collection(QueueClusterCollection.Name)]
public sealed class QueueLimitsTests(QueueCluster cluster) : IDisposable
{
    private readonly CancellationTokenSource timeout = new(TimeSpan.FromMinutes(2));

    private CancellationToken Timeout => timeout.Token;

    public void Dispose() => timeout.Dispose();

    [Fact]
    public async Task FullQueue_ClientGetsBusyAtOnce_AndMetricsShowTheWaitingJob()
    {
        if (cluster.Nats is null)
        {
            await cluster.StartNatsAsync(Timeout);
        }

        await using var host = ChildProcess.Start(TestEnvironment.SandboxExecutable(),
        [
            "host", "--urls", "http://127.0.0.1:0", "--slots", "1", "--host-id", "bp1",
            "--queue", cluster.NatsUrl, "--queue-prefix", "bp", "--queue-max-pending", "2", "--queue-max-job-size", "4",
        ]);
        var listening = await host.WaitForLineAsync("Now listening on: ", Timeout);
        var address = new Uri(listening[listening.IndexOf("http://", StringComparison.Ordinal)..].Trim());
        await host.WaitForLineAsync("Consuming the queue", Timeout);
        var client = await QueueSandboxClient.ConnectAsync(new QueueConnection { Url = new Uri(cluster.NatsUrl), SubjectPrefix = "bp" }, Timeout);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        try
        {
            const string Sleeper = "import time\nprint('start', flush=True)\ntime.sleep(8)\n";
            var first = new JobRecorder();
            var running = client.RunAsync(new RunParams("python", Sleeper), first, stop.Token);
            await first.FirstOutput.Within(Timeout);
            var waiting = client.RunAsync(new RunParams("python", Sleeper), null, stop.Token);
            var metrics = await WaitForMetricAsync(address, "sandbox_shared_queue_depth 1");
            Assert.Contains("sandbox_shared_queue_running 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains("sandbox_shared_queue_host_busy_slots{host=\"bp1\"} 1\n", metrics, StringComparison.Ordinal);
            Assert.Matches(@"sandbox_shared_queue_oldest_waiting_seconds \d", metrics);

            var clock = Stopwatch.StartNew();
            var busy = await Assert.ThrowsAsync<SandboxRpcException>(() => client.RunAsync(new RunParams("python", "print(1)"), null, Timeout).Within(Timeout));
            clock.Stop();

            Assert.Equal(SandboxErrorCode.HostBusy, busy.Code);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"busy took {clock.Elapsed.TotalMilliseconds:0} ms");

            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.Within(Timeout));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Within(Timeout));
            await WaitForMetricAsync(address, "sandbox_shared_queue_running 0\n");

            var big = "# " + new string('x', 8 * 1024) + "\nprint(1)\n";
            var tooBig = await Assert.ThrowsAsync<SandboxRpcException>(() => client.RunAsync(new RunParams("python", big), null, Timeout).Within(Timeout));
            Assert.Equal(SandboxErrorCode.InvalidRequest, tooBig.Code);
            Assert.Contains("too large", tooBig.Message, StringComparison.Ordinal);

            var after = await client.RunAsync(new RunParams("python", "print(2)"), null, Timeout).Within(Timeout);
            Assert.Equal("2\n", after.Stdout);
        }
        finally
        {
            await client.DisposeAsync();
            host.Terminate();
            Assert.Equal(0, await host.WaitForExitAsync(Timeout));
        }
    }

    /// <summary>Reads /metrics until it holds <paramref name="text"/> (the queue's state is read from NATS on each scrape).</summary>
    private async Task<string> WaitForMetricAsync(Uri address, string text)
    {
        using var http = new HttpClient();
        while (true)
        {
            var metrics = await http.GetStringAsync(new Uri(address, "/metrics"), Timeout);
            if (metrics.Contains(text, StringComparison.Ordinal))
            {
                return metrics;
            }

            await Task.Delay(50, Timeout);
        }
    }
}
