using Sandbox.Runner.Execution;

namespace Sandbox.Runner.Tests.Execution;

public sealed class ResourceLimitsTests
{
    [Theory]
    [InlineData(1e12)]
    [InlineData(1e20)]
    [InlineData(double.MaxValue)]
    [InlineData(double.PositiveInfinity)]
    public void TimeLimitPastWhatATimeSpanHolds_IsNamedAsAboveTheMaximum_AndClampsToIt(double seconds)
    {
        var max = new ResourceLimits();
        var asked = new LimitOverrides(TimeLimitSeconds: seconds);

        Assert.Contains("above this runner's maximum", max.Exceeds(asked));
        var clamped = max.ClampTo(asked);
        Assert.Equal(max.CpuTime, clamped.CpuTime);
        Assert.Equal(max.WallTime, clamped.WallTime);
    }

    [Fact]
    public void LowerTimeLimit_LowersCpuAndWallTime()
    {
        var clamped = new ResourceLimits().ClampTo(new LimitOverrides(TimeLimitSeconds: 1.5));

        Assert.Equal(TimeSpan.FromSeconds(1.5), clamped.CpuTime);
        Assert.Equal(TimeSpan.FromSeconds(4), clamped.WallTime);
    }
}
