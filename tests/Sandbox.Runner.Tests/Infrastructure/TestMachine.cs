namespace Sandbox.Runner.Tests.Infrastructure;

/// <summary>The machine the tests run on.</summary>
public static class TestMachine
{
    /// <summary>
    /// How many times slower than this machine the one running the tests is: 1 unless SANDBOX_TEST_SLOWDOWN says
    /// otherwise (the cgroup v2 suite runs the tests in a VM whose CPU may be emulated). The fixture's maximum limits
    /// and the attacks' time limits scale with it, so that no verdict depends on the machine's speed.
    /// </summary>
    public static int Slowdown { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("SANDBOX_TEST_SLOWDOWN"), out var slowdown) && slowdown > 1 ? slowdown : 1;
}
