using Sandbox.Runner.Execution;
using Sandbox.Runner.Tests.Infrastructure;

namespace Sandbox.Runner.Tests.Isolation;

/// <summary>
/// What a run reports about itself is its own: a container serves many runs, and nothing of an earlier run's
/// memory peak may show in a later one's figures or verdict. (On cgroup v2 before Linux 6.12 the kernel's peak
/// counter cannot be reset; the cgroup v2 VM suite runs this on Debian 12's 6.1 kernel.)
/// </summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class AccountingTests(SandboxFixture sandbox)
{
    [Fact]
    public async Task MemoryPeak_IsTheRunsOwn_AfterBiggerRunsOnEverySlot()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var limits = new LimitOverrides(MemoryLimitMb: 256);
        // Every slot serves a run that peaks at about 150 MiB (as many runs as slots, all at once, so each slot gets one).
        var big = await Task.WhenAll(Enumerable.Range(0, sandbox.Engine.Slots).Select(_ => sandbox.Runner.RunAsync(
            new RunRequest("python", "import time\nx = bytearray(150 << 20)\nfor i in range(0, len(x), 4096): x[i] = 1\ntime.sleep(0.5)\nprint(len(x) >> 20)", null, limits),
            null,
            timeout.Token)));
        foreach (var result in big)
        {
            Assert.True(result.Verdict == RunVerdict.Ok, result.ToString());
            Assert.True(result.MemoryKb >= 150 * 1024, result.ToString());
        }

        // Then, on every slot again, a run that peaks at a few MiB and one that ends by SIGKILL: each reports its own
        // peak, and the SIGKILL is the program's runtime error, not a memory limit it never came near.
        for (var i = 0; i < sandbox.Engine.Slots; i++)
        {
            var small = await sandbox.Runner.RunAsync(new RunRequest("bash", "echo small", null, limits), null, timeout.Token);
            Assert.True(small.Verdict == RunVerdict.Ok, small.ToString());
            Assert.True(small.MemoryKb is > 0 and < 64 * 1024, small.ToString());

            var killed = await sandbox.Runner.RunAsync(new RunRequest("bash", "kill -KILL $$", null, limits), null, timeout.Token);
            Assert.True(killed.Verdict == RunVerdict.RuntimeError && killed.Signal == 9, killed.ToString());
            Assert.True(killed.MemoryKb < 64 * 1024, killed.ToString());
        }
    }
}
