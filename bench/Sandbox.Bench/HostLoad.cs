using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Remote.InProcess;
using Sandbox.Remote.Server;
using Sandbox.Runner;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Bench;

/// <summary>
/// The runner host under load: <c>print(1)</c> with every slot busy, over the WebSocket (a real host on loopback,
/// several clients) and in-process on the same engine, in one run. Prints runs per second and p50/p95 latency.
/// </summary>
internal static class HostLoad
{
    public static async Task RunAsync(int runs, int concurrency)
    {
        var slots = Environment.ProcessorCount;
        var app = SandboxHost.Create(
            new SandboxHostOptions { Urls = "http://127.0.0.1:0", LogLevel = "warning", Slots = slots, MaxQueue = concurrency * 2 },
            services =>
            {
                services.AddSandboxRunner(o => o.Slots = slots);
                services.AddSandboxJudging();
            },
            logToConsole: false);
        await app.StartAsync();
        try
        {
            await app.Services.GetRequiredService<CodeRunner>().StartAsync(null, CancellationToken.None);
            var inProcess = app.Services.GetRequiredService<InProcessSandboxRpc>();
            var address = new Uri(SandboxHost.Addresses(app).First());
            var clients = Enumerable.Range(0, concurrency)
                .Select(_ => new RemoteSandboxClient(new RemoteSandboxClientOptions { Endpoint = new Uri($"ws://{address.Authority}/rpc") }))
                .ToList();
            try
            {
                // Warm both paths so neither pays for first use in its figure; then alternate rounds so both see the same machine.
                await MeasureAsync(_ => inProcess, concurrency, concurrency);
                await MeasureAsync(i => clients[i], concurrency, concurrency);
                var local = new List<double>();
                var remote = new List<double>();
                double localSeconds = 0, remoteSeconds = 0;
                for (var round = 0; round < 4; round++)
                {
                    var (l, ls) = await MeasureAsync(_ => inProcess, runs / 4, concurrency);
                    var (r, rs) = await MeasureAsync(i => clients[i], runs / 4, concurrency);
                    local.AddRange(l);
                    remote.AddRange(r);
                    localSeconds += ls;
                    remoteSeconds += rs;
                }

                Console.WriteLine($"Runner host load: python print(1), {local.Count} runs each, {concurrency} clients at once on {slots} slots");
                Console.WriteLine($"  in-process: {Describe(local, localSeconds)}");
                Console.WriteLine($"  websocket:  {Describe(remote, remoteSeconds)}");
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

    private static string Describe(List<double> latencies, double seconds)
    {
        var sorted = latencies.Order().ToArray();
        return $"{sorted.Length / seconds,6:0.0} runs/s   p50 {sorted[sorted.Length / 2],6:0.0} ms   p95 {sorted[(int)(sorted.Length * 0.95)],6:0.0} ms";
    }

    private static async Task<(List<double> Latencies, double Seconds)> MeasureAsync(Func<int, ISandboxRpc> rpcFor, int runs, int concurrency)
    {
        var latencies = new double[runs];
        var next = -1;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async worker =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < runs)
            {
                var one = Stopwatch.StartNew();
                var result = await rpcFor(worker).RunAsync(new RunParams("python", "print(1)"), null, CancellationToken.None);
                latencies[i] = one.Elapsed.TotalMilliseconds;
                if (result.Verdict != RunVerdict.Ok || result.Stdout != "1\n")
                {
                    throw new InvalidOperationException($"run failed: {result}");
                }
            }
        });
        await Task.WhenAll(workers);
        return ([.. latencies], clock.Elapsed.TotalSeconds);
    }
}
