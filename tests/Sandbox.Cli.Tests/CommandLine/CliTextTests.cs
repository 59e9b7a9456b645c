using Sandbox.Cli.Commands;
using Sandbox.Remote.Client;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>What the CLI reads and prints, case by case (the process tests show it end to end).</summary>
public sealed class CliTextTests
{
    [Fact]
    public void DecodeUtf8_KeepsAByteOrderMarkAsACharacter()
    {
        Assert.Equal("\uFEFFhé", RunCommand.DecodeUtf8([0xEF, 0xBB, 0xBF, (byte)'h', 0xC3, 0xA9], "x"));
    }

    [Theory]
    [InlineData(new byte[] { 0x80 }, 0)]
    [InlineData(new byte[] { (byte)'a', 0xC3, (byte)'b' }, 1)] // a lead byte without its continuation
    [InlineData(new byte[] { (byte)'a', 0xED, 0xA0, 0x80 }, 1)] // an encoded surrogate
    [InlineData(new byte[] { (byte)'a', 0xC0, 0xAF }, 1)] // an overlong encoding of '/'
    [InlineData(new byte[] { (byte)'a', (byte)'b', 0xF0, 0x9F, 0x98 }, 2)] // cut short at the end
    public void DecodeUtf8_InvalidBytes_AreAUsageErrorNamingTheFirstOne(byte[] bytes, int offset)
    {
        var error = Assert.Throws<SandboxUsageException>(() => RunCommand.DecodeUtf8(bytes, "in.txt"));

        Assert.Equal($"in.txt is not UTF-8 text (invalid byte at offset {offset}); the sandbox takes source code as UTF-8", error.Message);
    }

    [Fact]
    public void DecodeUtf8_FindsTheBadByteFarIntoALargeInput()
    {
        var bytes = new byte[3 * 1024 * 1024];
        Array.Fill(bytes, (byte)'a');
        bytes[2_500_001] = 0xFF;

        var error = Assert.Throws<SandboxUsageException>(() => RunCommand.DecodeUtf8(bytes, "stdin"));

        Assert.Contains("invalid byte at offset 2500001)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("secret/1", false, "secret/1")]
    [InlineData("x\u001b[31mred", false, "x?[31mred")] // C0: ESC
    [InlineData("a\u007fb", false, "a?b")] // DEL
    [InlineData("a\u009b31mb", false, "a?31mb")] // C1: CSI
    [InlineData("line\nnext\ttab\r", false, "line?next?tab?")]
    [InlineData("line\nnext\ttab\r\u001b", true, "line\nnext\ttab??")]
    [InlineData("café 😀", false, "café 😀")]
    public void Printable_ReplacesControlCharacters(string text, bool keepLines, string expected)
    {
        Assert.Equal(expected, CliOptions.Printable(text, keepLines));
    }

    [Theory]
    [InlineData(1e12)]
    [InlineData(1e300)]
    [InlineData(double.MaxValue)]
    public void ResourceLimits_HugeTimeLimit_IsAboveTheMaximumNotAnOverflow(double seconds)
    {
        var maximum = new ResourceLimits();

        Assert.StartsWith("time limit ", maximum.Exceeds(new LimitOverrides(seconds)), StringComparison.Ordinal);
        Assert.Equal(maximum.CpuTime, maximum.ClampTo(new LimitOverrides(seconds)).CpuTime);
    }

    [Fact]
    public void CheckInternalError_NamesTheTestAndWhatFailed()
    {
        var result = new CheckResult(TestVerdict.InternalError, 0, 2, "", [
            new TestResult("sample/1", true, TestVerdict.Accepted, 1, 1),
            new TestResult("secret/\u001b1", false, TestVerdict.InternalError, 1, 1),
        ]);

        Assert.Equal(
            "internal error on test secret/?1: the problem's validator or the sandbox failed; not your program's fault",
            CheckCommand.InternalErrorMessage(result, logHidden: false));
        Assert.EndsWith("(--verbose shows the runner's log)", CheckCommand.InternalErrorMessage(result, logHidden: true), StringComparison.Ordinal);
    }
}
