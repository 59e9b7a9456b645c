using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Remote.Queue;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using Sandbox.Scale.Tests.Infrastructure;

namespace Sandbox.Scale.Tests;

/// <summary>
/// Runner hosts sharing the NATS JetStream work queue, as deployed: a real nats-server, three <c>sandbox host --queue</c>
/// processes on the real engine, clients on <see cref="QueueSandboxClient"/> (what <c>--runner nats://</c> uses).
/// </summary>
[Trait("Category", "Sandbox")]
[Collection(QueueClusterCollection.Name)]
public sealed class QueueScaleTests(QueueCluster cluster) : IAsyncLifetime
{
    private readonly CancellationTokenSource timeout = new(TimeSpan.FromMinutes(3));

    private CancellationToken Timeout => timeout.Token;

    public async Task InitializeAsync()
    {
        if (cluster.Nats is null)
        {
            await cluster.StartNatsAsync(Timeout);
        }

        await cluster.EnsureHostsAsync(3, Timeout);
    }

    public Task DisposeAsync()
    {
        timeout.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ThreeHosts_300JobsFrom10Clients_EveryJobGetsItsOwnResult()
    {
        var clients = await ClientsAsync(10);
        var hosts = new ConcurrentDictionary<string, int>();
        try
        {
            var jobs = Enumerable.Range(0, 10).Select(c => Task.Run(async () =>
            {
                for (var j = 0; j < 30; j++)
                {
                    var n = c * 1000 + j;
                    var recorder = new JobRecorder();
                    var result = await clients[c].RunAsync(new RunParams("python", $"print({n})"), recorder, Timeout);
                    Assert.Equal(RunVerdict.Ok, result.Verdict);
                    Assert.Equal($"{n}\n", result.Stdout);
                    Assert.Equal(result.Stdout, recorder.Stdout);
                    hosts.AddOrUpdate(recorder.Attempts[^1].Host, 1, (_, k) => k + 1);
                }
            }));

            await Task.WhenAll(jobs).Within(Timeout);
        }
        finally
        {
            await DisposeAllAsync(clients);
        }

        Assert.Equal(300, hosts.Values.Sum());
        // Every host took part: the queue spreads the jobs.
        Assert.Equal(3, hosts.Count);
    }

    [Fact]
    public async Task HostKilledMidRun_ItsJobsRestartOnAnotherHost_EveryJobGetsExactlyOneResult()
    {
        const int Jobs = 60;
        var clients = await ClientsAsync(10);
        var finished = 0;
        var killNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var victim = QueueCluster.HostName(1);
        var killer = Task.Run(async () =>
        {
            await killNow.Task.WaitAsync(Timeout);
            cluster.Host(1).Kill();
        });
        var recorders = new ConcurrentDictionary<int, (JobRecorder Recorder, RunResult Result)>();
        var results = new int[Jobs];
        try
        {
            var work = Enumerable.Range(0, 10).Select(c => Task.Run(async () =>
            {
                for (var n = c; n < Jobs; n += 10)
                {
                    var recorder = new JobRecorder
                    {
                        OnStarted = attempt =>
                        {
                            // Kill the host mid-way through the batch, while it is running this job.
                            if (attempt.Host == victim && Volatile.Read(ref finished) >= Jobs / 4)
                            {
                                killNow.TrySetResult();
                            }
                        },
                    };
                    var result = await clients[c].RunAsync(new RunParams("python", $"import time\nprint('start', flush=True)\ntime.sleep(0.3)\nprint({n})"), recorder, Timeout);
                    Interlocked.Increment(ref results[n]);
                    Interlocked.Increment(ref finished);
                    recorders[n] = (recorder, result);
                }
            }));
            await Task.WhenAll(work).Within(Timeout);
            await killer.Within(Timeout);
        }
        finally
        {
            await DisposeAllAsync(clients);
        }

        Assert.True(cluster.Host(1).HasExited);
        Assert.All(results, count => Assert.Equal(1, count));
        foreach (var (n, (recorder, result)) in recorders)
        {
            Assert.Equal(RunVerdict.Ok, result.Verdict);
            Assert.Equal($"start\n{n}\n", result.Stdout);
            // After a restart the output started over: what streamed since the last start is the whole result.
            Assert.Equal(result.Stdout, recorder.Stdout);
        }

        var restarted = recorders.Values.Where(r => r.Recorder.Attempts.Count > 1).ToList();
        Assert.NotEmpty(restarted);
        Assert.All(restarted, r =>
        {
            Assert.Equal(victim, r.Recorder.Attempts[0].Host);
            Assert.NotEqual(victim, r.Recorder.Attempts[^1].Host);
            Assert.True(r.Recorder.Attempts[^1].IsRestart);
        });
    }

    [Fact]
    public async Task JobWhoseEveryHostDies_FailsWithAClearError_AfterTheQueuesLastDelivery()
    {
        // Every host that starts the job is killed at once (as if the job brought it down); killed hosts come back, so
        // there is always a host for the next delivery. After the queue's last delivery (5) nothing will take the job
        // again: the client must say so instead of waiting forever.
        await using var client = await cluster.ClientAsync(Timeout);
        var starts = System.Threading.Channels.Channel.CreateUnbounded<RunAttempt>();
        var recorder = new JobRecorder { OnStarted = attempt => starts.Writer.TryWrite(attempt) };
        var clock = Stopwatch.StartNew();
        var run = client.RunAsync(new RunParams("python", "import time\nprint('start', flush=True)\ntime.sleep(30)"), recorder, Timeout);
        var killer = Task.Run(async () =>
        {
            await foreach (var attempt in starts.Reader.ReadAllAsync(Timeout))
            {
                var index = Enumerable.Range(0, 3).Single(i => QueueCluster.HostName(i) == attempt.Host);
                cluster.Host(index).Kill();
                await cluster.Host(index).WaitForExitAsync(Timeout);
                await cluster.EnsureHostsAsync(3, Timeout);
            }
        });

        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => run.Within(Timeout));
        starts.Writer.TryComplete();
        await killer.Within(Timeout);
        Assert.Equal(SandboxErrorCode.Internal, error.Code);
        Assert.Contains("given up", error.Message, StringComparison.Ordinal);
        Assert.Contains("5 times", error.Message, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3, 4, 5], recorder.Attempts.Select(a => a.Number));
        // Five ack waits for the redeliveries, then the silence of the last one: well under a minute, never forever.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task BinaryStdinAndOutput_ThroughTheQueue_AreByteExact()
    {
        var client = await cluster.ClientAsync(Timeout);
        try
        {
            byte[] everyByte = [.. Enumerable.Range(0, 256).Select(b => (byte)b)];
            byte[] input = [.. everyByte.Reverse()];
            var streamed = new ConcurrentQueue<OutputEvent>();

            var result = await client.RunAsync(
                new RunParams("python", "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read()); sys.stdout.flush()\nsys.stdout.buffer.write(bytes(range(256)))\n", StdinBytes: input),
                new Progress(streamed.Enqueue),
                Timeout).Within(Timeout);

            Assert.Equal(RunVerdict.Ok, result.Verdict);
            Assert.Equal([.. input, .. everyByte], result.StdoutBytes.ToArray());
            Assert.Equal([.. input, .. everyByte], streamed.SelectMany(e => e.GetBytes().ToArray()).ToArray());
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    private sealed class Progress(Action<OutputEvent> report) : IProgress<OutputEvent>
    {
        public void Report(OutputEvent value) => report(value);
    }

    [Fact]
    public async Task JobLongerThanTheAckWait_IsKeptAliveByProgress_NotRedelivered()
    {
        var client = await cluster.ClientAsync(Timeout);
        try
        {
            var recorder = new JobRecorder();
            // 1.4 times the ack wait, inside the hosts' wall-clock limit (3 s CPU maximum: 7 s wall).
            var seconds = QueueCluster.AckWait.TotalSeconds * 1.4;
            var source = $"import time\nprint('start', flush=True)\ntime.sleep({seconds.ToString(CultureInfo.InvariantCulture)})\nprint('done')";

            var result = await client.RunAsync(new RunParams("python", source), recorder, Timeout).Within(Timeout);

            Assert.Equal(RunVerdict.Ok, result.Verdict);
            Assert.Equal("start\ndone\n", result.Stdout);
            Assert.Single(recorder.Attempts);
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task SigTerm_HostFinishesItsRunningJobAndTakesNoNewOnes()
    {
        var clients = await ClientsAsync(6);
        var draining = QueueCluster.HostName(2);
        var onDraining = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var recorders = Enumerable.Range(0, 6).Select(_ => new JobRecorder
            {
                OnStarted = a =>
                {
                    if (a.Host == draining)
                    {
                        onDraining.TrySetResult(0);
                    }
                },
            }).ToList();
            var longJobs = Enumerable.Range(0, 6)
                .Select(i => clients[i].RunAsync(new RunParams("python", "import time\nprint('start', flush=True)\ntime.sleep(2)\nprint('done')"), recorders[i], Timeout))
                .ToList();
            await onDraining.Task.Within(Timeout);
            var host = cluster.Host(2);
            var mark = host.LineCount;
            host.Terminate();
            await host.WaitForNewLineAsync("Draining", mark, Timeout);

            var quick = new List<JobRecorder>();
            for (var i = 0; i < 6; i++)
            {
                var recorder = new JobRecorder();
                quick.Add(recorder);
                var result = await clients[i].RunAsync(new RunParams("python", $"print({i})"), recorder, Timeout).Within(Timeout);
                Assert.Equal($"{i}\n", result.Stdout);
            }

            var results = await Task.WhenAll(longJobs).Within(Timeout);
            Assert.Equal(0, await host.WaitForExitAsync(Timeout));
            Assert.All(results, r => Assert.Equal("start\ndone\n", r.Stdout));
            // The draining host's job finished there, once: no restart, no redelivery.
            var drained = recorders.Where(r => r.Attempts.Any(a => a.Host == draining)).ToList();
            Assert.NotEmpty(drained);
            Assert.All(drained, r => Assert.Single(r.Attempts));
            Assert.All(quick, r => Assert.NotEqual(draining, r.Attempts[^1].Host));
        }
        finally
        {
            await DisposeAllAsync(clients);
        }
    }

    [Fact]
    public async Task NatsStopped_ClientsGetAClearError_HostsReconnectWhenItReturns()
    {
        var client = await cluster.ClientAsync(Timeout);
        var marks = Enumerable.Range(0, 3).Select(i => cluster.Host(i).LineCount).ToList();
        try
        {
            var recorder = new JobRecorder();
            var running = client.RunAsync(new RunParams("python", "import time\nprint('start', flush=True)\ntime.sleep(3)\nprint('done')"), recorder, Timeout);
            await recorder.FirstOutput.Within(Timeout);

            await cluster.KillNatsAsync(Timeout);

            var lost = await Assert.ThrowsAsync<SandboxConnectionException>(() => running.Within(Timeout));
            Assert.Contains($"lost the connection to the queue at {cluster.NatsUrl}", lost.Message, StringComparison.Ordinal);
            var down = await Assert.ThrowsAsync<SandboxConnectionException>(() => client.RunAsync(new RunParams("python", "print(1)"), null, Timeout).Within(Timeout));
            Assert.Contains("is unreachable", down.Message, StringComparison.Ordinal);
            var refused = await Assert.ThrowsAsync<SandboxConnectionException>(() => cluster.ClientAsync(Timeout).Within(Timeout));
            Assert.Contains($"cannot connect to the queue at {cluster.NatsUrl}", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            await client.DisposeAsync();
        }

        await cluster.StartNatsAsync(Timeout);
        for (var i = 0; i < 3; i++)
        {
            await cluster.Host(i).WaitForNewLineAsync("Connected to the queue", marks[i], Timeout);
        }

        var again = await cluster.ClientAsync(Timeout);
        try
        {
            var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => again.RunAsync(new RunParams("python", $"print({i})"), null, Timeout))).Within(Timeout);
            Assert.Equal(Enumerable.Range(0, 6).Select(i => $"{i}\n"), results.Select(r => r.Stdout));
        }
        finally
        {
            await again.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CancelOrClosedClient_KillsTheRunOnItsHost(bool cancel)
    {
        var client = await cluster.ClientAsync(Timeout);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        var recorder = new JobRecorder();
        var run = client.RunAsync(new RunParams("python", "import time\nprint('started', flush=True)\nwhile True: time.sleep(0.01)\n"), recorder, stop.Token);
        await recorder.FirstOutput.Within(Timeout);
        var index = int.Parse(recorder.Attempts[^1].Host["host".Length..], CultureInfo.InvariantCulture) - 1;
        var host = cluster.Host(index);
        var mark = host.LineCount;
        var clock = Stopwatch.StartNew();

        if (cancel)
        {
            await stop.CancelAsync();
        }
        else
        {
            await client.DisposeAsync();
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.Within(Timeout));
        // The engine logs the run's end once it killed the program in its container.
        await host.WaitForNewLineAsync("Run cancelled after", mark, Timeout);
        clock.Stop();
        // Well inside the run's own wall-clock limit (3 s CPU maximum: 7 s wall), so the cancel killed it.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the run ended {clock.Elapsed.TotalMilliseconds:0} ms after the client left");
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Check_AgainstAProblem_TestsStreamAndHiddenDataStaysOnTheHosts()
    {
        var client = await cluster.ClientAsync(Timeout);
        try
        {
            var source = await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepositoryRoot(), "problems/fizzbuzz/submissions/accepted/fizzbuzz.py"), Timeout);
            var problem = await client.ProblemAsync(new ProblemParams("fizzbuzz"), Timeout);
            var recorder = new JobRecorder();

            var result = await client.CheckAsync(new CheckParams("python", source, Problem: "fizzbuzz"), recorder, Timeout).Within(Timeout);

            Assert.Equal(TestVerdict.Accepted, result.Verdict);
            Assert.Equal(problem.Samples.Count + problem.HiddenTests, result.Total);
            Assert.Equal(result.Total, recorder.Tests.Count);
            Assert.All(recorder.Tests.Where(t => !t.Sample), t => Assert.Null(t.Detail));
            var languages = await client.LanguagesAsync(Timeout);
            Assert.Contains(languages.Languages, l => l.Id == "python");
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Check_ProblemPath_IsRefusedByTheHost()
    {
        var client = await cluster.ClientAsync(Timeout);
        try
        {
            var error = await Assert.ThrowsAsync<SandboxRpcException>(() => client.CheckAsync(new CheckParams("python", "print(1)", Problem: "/etc/passwd"), null, Timeout).Within(Timeout));
            Assert.Equal(SandboxErrorCode.InvalidRequest, error.Code);
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Limits_AboveTheHostMaximum_AreClampedToIt()
    {
        var client = await cluster.ClientAsync(Timeout);
        try
        {
            var ok = await client.RunAsync(new RunParams("python", "print(1)", Limits: new LimitOverrides(TimeLimitSeconds: 1000)), null, Timeout).Within(Timeout);
            Assert.Equal(RunVerdict.Ok, ok.Verdict);

            var spin = await client.RunAsync(new RunParams("python", "while True: pass", Limits: new LimitOverrides(TimeLimitSeconds: 1000)), null, Timeout).Within(Timeout);

            Assert.Equal(RunVerdict.TimeLimit, spin.Verdict);
            Assert.InRange(spin.CpuTimeMs, 1, (long)((QueueCluster.MaxTimeLimitSeconds + 1) * 1000));
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    private async Task<List<QueueSandboxClient>> ClientsAsync(int count)
    {
        var clients = new List<QueueSandboxClient>();
        for (var i = 0; i < count; i++)
        {
            clients.Add(await cluster.ClientAsync(Timeout));
        }

        return clients;
    }

    private static async Task DisposeAllAsync(IEnumerable<QueueSandboxClient> clients)
    {
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }
}
