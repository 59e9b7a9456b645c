using Sandbox.Runner.Execution;
using Sandbox.Runner.Tests.Infrastructure;

namespace Sandbox.Runner.Tests.Isolation;

[Trait("Category", "Sandbox")]
public sealed class EngineSmokeTests
{
    [Fact]
    public async Task Run_BashHello_PrintsHello()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var runner = new CodeRunner(new SandboxOptions { Slots = 1, StateDirectory = "/var/lib/sandbox-test", RuntimeDirectory = "/run/sandbox-test" }, new TestCatalog());
        var result = await runner.RunAsync(new RunRequest("bash", "echo hi; id; echo err >&2; ls -la /work /tmp /dev/shm; cat /proc/self/status | grep -E 'Cap|Seccomp|NoNew'"), null, timeout.Token);
        Assert.True(result.Verdict == RunVerdict.Ok, result.ToString());
        Assert.StartsWith("hi\n", result.Stdout, StringComparison.Ordinal);
        Console.WriteLine(result.Stdout + result.Stderr);
    }
}
