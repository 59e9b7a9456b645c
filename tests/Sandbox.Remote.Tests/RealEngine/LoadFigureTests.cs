using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Remote.InProcess;
using Sandbox.Remote.Server;
using Sandbox.Remote.Tests.Infrastructure;
using Sandbox.Runner;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using Xunit.Abstractions;

namespace Sandbox.Remote.Tests.RealEngine;

/// <summary>
/// The load figure of the runner host: <c>print(1)</c> with every slot busy, over the WebSocket and in-process,
/// in one run on one engine. Prints runs per second and p50/p95 latency; fails if any run is lost or not ok.
/// </summary>
[Trait("Category", "Sandbox")]
[Collection(RealEngineCollection.Name)]
public sealed class LoadFigureTests(ITestOutputHelper output)
{
    private const int Runs = 120;
    private const int Concurrency = 8;

    [Fact]
    public async Task PrintOne_AllSlotsBusy_WebSocketNextToInProcess()
    {
        using var timeout = TestTimeouts.Create(TimeSpan.FromMinutes(10));
        var app = SandboxHost.Create(
            new SandboxHostOptions { Urls = "http://127.0.0.1:0", LogLevel = "warning", Slots = 2, MaxQueue = Concurrency * 2 },
            services =>
            {
                services.AddSandboxRunner(o => o.Slots = 2);
                services.AddSandboxJudging();
            },
            logToConsole: false);
        await app.StartAsync(timeout.Token);
        try
        {
            var engine = app.Services.GetRequiredService<CodeRunner>();
            await engine.StartAsync(null, timeout.Token);
            var inProcess = app.Services.GetRequiredService<InProcessSandboxRpc>();
            var address = new Uri(SandboxHost.Addresses(app).First());
            var clients = Enumerable.Range(0, Concurrency)
                .Select(_ => new RemoteSandboxClient(new RemoteSandboxClientOptions { Endpoint = new Uri($"ws://{address.Authority}/rpc") }))
                .ToList();
            try
            {
                // Warm both paths once so neither pays for first-use costs in its figure.
                await MeasureAsync(i => inProcess, Concurrency, timeout.Token);
                await MeasureAsync(i => clients[i % Concurrency], Concurrency, timeout.Token);

                var local = await MeasureAsync(_ => inProcess, Runs, timeout.Token);
                var remote = await MeasureAsync(i => clients[i % Concurrency], Runs, timeout.Token);

                output.WriteLine($"print(1), {Runs} runs, {Concurrency} at once on 2 slots:");
                output.WriteLine($"  in-process: {local}");
                output.WriteLine($"  websocket:  {remote}");
            }
            finally
            {
                foreach (var client in clients)
                {
                    await client.DisposeAsync();
                }
            }
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    private static async Task<Figure> MeasureAsync(Func<int, ISandboxRpc> rpcFor, int runs, CancellationToken cancellationToken)
    {
        var latencies = new double[runs];
        var next = -1;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, Concurrency).Select(async worker =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < runs)
            {
                var one = Stopwatch.StartNew();
                var result = await rpcFor(worker).RunAsync(new RunParams("python", "print(1)"), null, cancellationToken);
                latencies[i] = one.Elapsed.TotalMilliseconds;
                Assert.Equal(RunVerdict.Ok, result.Verdict);
                Assert.Equal("1\n", result.Stdout);
            }
        });
        await Task.WhenAll(workers).WaitAsync(cancellationToken);
        clock.Stop();
        Array.Sort(latencies);
        return new Figure(runs / clock.Elapsed.TotalSeconds, latencies[runs / 2], latencies[(int)(runs * 0.95)]);
    }

    private sealed record Figure(double RunsPerSecond, double P50Ms, double P95Ms)
    {
        public override string ToString() => $"{RunsPerSecond:0.0} runs/s, p50 {P50Ms:0} ms, p95 {P95Ms:0} ms";
    }
}
