using System.Diagnostics;
using Sandbox.Bench;
using Sandbox.Runner;
using Sandbox.Runner.Execution;

// Per-run overhead of the sandbox: the same program run directly on the host (posix_spawn + waitpid from this
// process) and through the sandbox, interleaved in one run so both see the same machine; then throughput with
// every slot busy against the same number of bare processes at once.
//   dotnet run -c Release --project bench/Sandbox.Bench -- [runs=500] [throughput-seconds=30 per side, in 1 s slices]
//   dotnet run -c Release --project bench/Sandbox.Bench -- host [runs=200] [clients=8]   (runner host: WebSocket vs in-process)
//   dotnet run -c Release --project bench/Sandbox.Bench -- loop [seconds=10] [program=true|python-print] [bare]   (one side only, all slots busy: for a profiler)
if (args.Length > 0 && args[0] == "host")
{
    await HostLoad.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 8);
    return;
}

if (args.Length > 0 && args[0] == "loop")
{
    var loopSeconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10;
    var program = args.Length > 2 ? args[2] : "true";
    await using var loopRunner = new CodeRunner(new SandboxOptions(), new BenchCatalog());
    await loopRunner.StartAsync(null, CancellationToken.None);
    for (var i = 0; i < 50; i++)
    {
        await Sandboxed(loopRunner, program);
    }

    Console.WriteLine($"looping {program} on {loopRunner.Slots} slots for {loopSeconds:0} s (pid {Environment.ProcessId})");
    string[] loopArgv = program == "true" ? ["/bin/true"] : ["/usr/bin/python3", "-c", "print(1)"];
    var bareLoop = args.Length > 3 && args[3] == "bare";
    var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    var (loopRuns, elapsed, cpu) = bareLoop
        ? await Throughput(loopRunner.Slots, loopSeconds, () => { Bare.Run(loopArgv); return Task.CompletedTask; })
        : await Throughput(loopRunner.Slots, loopSeconds, () => Sandboxed(loopRunner, program));
    var allocatedPerRun = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / Math.Max(1, loopRuns);
    Console.WriteLine($"{loopRuns / elapsed:0.0} runs/s; CPU per run (us): {CpuAccounting.PerRun(cpu, loopRuns, !bareLoop)}; managed bytes allocated per run {allocatedPerRun:0}");
    return;
}

var runs = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 500;
// 30 rounds: with fewer, this VM's drift leaves the throughput share uncertain by more than the overhead measured.
var seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 30;
var options = new SandboxOptions();
await using var runner = new CodeRunner(options, new BenchCatalog());
await runner.StartAsync(null, CancellationToken.None);

var programs = new (string Name, string Language, string[] Argv)[]
{
    ("/bin/true", "true", ["/bin/true"]),
    ("python3 -c 'print(1)'", "python-print", ["/usr/bin/python3", "-c", "print(1)"]),
};

Console.WriteLine($"Sandbox per-run overhead, {runs} runs each, interleaved (slots: {runner.Slots}, cgroup {runner.CgroupVersion}, {Environment.ProcessorCount} cores)");
Console.WriteLine($"{"program",-24} {"bare p50",9} {"bare p95",9} {"sandbox p50",12} {"sandbox p95",12} {"overhead p50",13} {"ratio",6}");
foreach (var (name, language, argv) in programs)
{
    // Warm up both paths.
    for (var i = 0; i < 20; i++)
    {
        Bare.Run(argv);
        await Sandboxed(runner, language);
    }

    var bare = new List<double>(runs);
    var sandboxed = new List<double>(runs);
    for (var i = 0; i < runs; i++)
    {
        var clock = Stopwatch.StartNew();
        Bare.Run(argv);
        bare.Add(clock.Elapsed.TotalMilliseconds);
        clock.Restart();
        await Sandboxed(runner, language);
        sandboxed.Add(clock.Elapsed.TotalMilliseconds);
    }

    var (b50, b95) = (Percentile(bare, 50), Percentile(bare, 95));
    var (s50, s95) = (Percentile(sandboxed, 50), Percentile(sandboxed, 95));
    Console.WriteLine($"{name,-24} {b50,7:0.00}ms {b95,7:0.00}ms {s50,10:0.00}ms {s95,10:0.00}ms {s50 - b50,11:0.00}ms {s50 / b50,5:0.00}x");
}

Console.WriteLine();
// Throughput: bare and sandboxed in alternating one-second slices (the order flips every round), so that both
// see the same machine; this VM's speed drifts by more than the difference over a few seconds.
var rounds = Math.Max(1, (int)Math.Round(seconds));
Console.WriteLine($"Throughput with all {runner.Slots} slots busy, {rounds} x 1 s each, interleaved ({runner.Slots} bare processes at once as the baseline)");
var splits = new List<string>();
foreach (var (name, language, argv) in programs)
{
    var bare = new Tally();
    var sandbox = new Tally();
    // Each round's own pair of slices too: how far the machine's drift moves the ratio from one round to the next,
    // and so how far from its true value the total's ratio may be (ShareInterval).
    var roundSlices = new List<RoundSlices>(rounds);
    for (var round = 0; round < rounds; round++)
    {
        var pair = new RoundSlices();
        foreach (var sandboxed in round % 2 == 0 ? new[] { false, true } : [true, false])
        {
            if (sandboxed)
            {
                var slice = await Throughput(runner.Slots, 1, () => Sandboxed(runner, language));
                sandbox.Add(slice);
                pair = pair with { SandboxRuns = slice.Runs, SandboxSeconds = slice.Seconds };
            }
            else
            {
                var slice = await Throughput(runner.Slots, 1, () => { Bare.Run(argv); return Task.CompletedTask; });
                bare.Add(slice);
                pair = pair with { BareRuns = slice.Runs, BareSeconds = slice.Seconds };
            }
        }

        roundSlices.Add(pair);
    }

    var roundRatios = roundSlices.Select(r => 100 * RoundSlices.Share([r])).ToList();
    var (low, high) = ShareInterval(roundSlices);
    Console.WriteLine($"{name,-24} bare {bare.Rate,8:0.0} runs/s   sandbox {sandbox.Rate,8:0.0} runs/s   {100 * sandbox.Rate / bare.Rate,5:0.0}% of bare (rounds {roundRatios.Min():0.0}-{roundRatios.Max():0.0}%, 95% interval {low:0.0}-{high:0.0}%)");
    splits.Add($"{name,-24} bare     {CpuAccounting.PerRun(bare.Cpu, bare.Runs, sandboxed: false)}");
    splits.Add($"{"",-24} sandbox  {CpuAccounting.PerRun(sandbox.Cpu, sandbox.Runs, sandboxed: true)}");
}

// With every core busy, throughput is CPU per run: this says whose.
Console.WriteLine();
Console.WriteLine("CPU time per run during those runs, microseconds (host: this process; agents: the containers' inits; programs: what they ran)");
splits.ForEach(Console.WriteLine);

static async Task Sandboxed(CodeRunner runner, string language)
{
    var result = await runner.RunAsync(new RunRequest(language, ""), null, CancellationToken.None);
    if (result.Verdict != RunVerdict.Ok)
    {
        throw new InvalidOperationException($"sandboxed run failed: {result}");
    }
}

static async Task<(long Runs, double Seconds, CpuAccounting.Sample Cpu)> Throughput(int workers, double seconds, Func<Task> run)
{
    var before = CpuAccounting.Take();
    var deadline = Stopwatch.StartNew();
    var count = 0;
    var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
    {
        while (deadline.Elapsed.TotalSeconds < seconds)
        {
            await run();
            Interlocked.Increment(ref count);
        }
    }));
    await Task.WhenAll(tasks);
    var elapsed = deadline.Elapsed.TotalSeconds;
    return (count, elapsed, CpuAccounting.Take() - before);
}

// A 95% bootstrap interval for the share of bare throughput: the rounds resampled with replacement 2,000 times
// (fixed seed: the same rounds give the same interval), the total's ratio taken each time. With one-second slices
// on a VM whose speed drifts by tens of percent from second to second, this says how much one run's figure can be
// trusted: a target inside the interval is neither shown met nor shown missed.
static (double Low, double High) ShareInterval(List<RoundSlices> rounds)
{
    var random = new Random(20261130);
    var shares = new List<double>(2000);
    var sample = new RoundSlices[rounds.Count];
    for (var i = 0; i < 2000; i++)
    {
        for (var j = 0; j < sample.Length; j++)
        {
            sample[j] = rounds[random.Next(rounds.Count)];
        }

        shares.Add(100 * RoundSlices.Share(sample));
    }

    return (Percentile(shares, 2.5), Percentile(shares, 97.5));
}

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToArray();
    return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1)];
}

/// <summary>Runs, seconds and CPU time of one side of the throughput comparison, summed over its slices.</summary>
internal sealed class Tally
{
    public long Runs { get; private set; }

    public double Seconds { get; private set; }

    public CpuAccounting.Sample Cpu { get; private set; }

    public double Rate => Runs / Seconds;

    public void Add((long Runs, double Seconds, CpuAccounting.Sample Cpu) slice)
    {
        Runs += slice.Runs;
        Seconds += slice.Seconds;
        Cpu += slice.Cpu;
    }
}

/// <summary>One round of the throughput comparison: the runs and seconds of its bare slice and of its sandboxed one.</summary>
internal readonly record struct RoundSlices(long BareRuns, double BareSeconds, long SandboxRuns, double SandboxSeconds)
{
    /// <summary>Sandboxed throughput as a share of bare over these rounds taken together (1.0: as fast).</summary>
    public static double Share(ReadOnlySpan<RoundSlices> rounds)
    {
        double bareRuns = 0, bareSeconds = 0, sandboxRuns = 0, sandboxSeconds = 0;
        foreach (var r in rounds)
        {
            bareRuns += r.BareRuns;
            bareSeconds += r.BareSeconds;
            sandboxRuns += r.SandboxRuns;
            sandboxSeconds += r.SandboxSeconds;
        }

        return sandboxRuns / sandboxSeconds / (bareRuns / bareSeconds);
    }
}
