namespace Sandbox.Runner.Judging;

/// <summary>How the judge runs checks.</summary>
public sealed class JudgeOptions
{
    /// <summary>
    /// Scales every problem's time limit (e.g. 1.5 on a slow host). The result still only lowers the runner's
    /// configured maximum. Default 1.
    /// </summary>
    public double TimeLimitMultiplier { get; set; } = 1;

    /// <summary>Longest <see cref="TestResult.Detail"/> (samples only), in characters. Default 400.</summary>
    public int MaxDetailChars { get; set; } = 400;
}
