using System.Text;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Judging.Validation;

namespace Sandbox.Runner.Tests.Judging;

public sealed class DefaultValidatorTests
{
    private static readonly ValidatorOptions s_default = new();

    private static ValidationOutcome Validate(string answer, string output, ValidatorOptions? options = null) =>
        DefaultValidator.Validate(Encoding.UTF8.GetBytes(answer), Encoding.UTF8.GetBytes(output), options ?? s_default);

    [Theory]
    [InlineData("1 2 3\n", "1 2 3\n")]
    [InlineData("1 2 3\n", "1   2\t3")]
    [InlineData("1 2 3\n", "\n\n1\n2\n3\n\n\n")]
    [InlineData("1 2 3", "  1 2 3  \r\n")]
    [InlineData("", "")]
    [InlineData("", "   \n\n")]
    public void Validate_WhitespaceChanges_AreAcceptedByDefault(string answer, string output) =>
        Assert.True(Validate(answer, output).Accepted);

    [Theory]
    [InlineData("Hello World", "hello WORLD")]
    [InlineData("YES", "yes")]
    public void Validate_CaseDifferences_AreAcceptedByDefault(string answer, string output) =>
        Assert.True(Validate(answer, output).Accepted);

    [Fact]
    public void Validate_CaseSensitive_RejectsCaseDifference()
    {
        var outcome = Validate("Yes", "yes", new ValidatorOptions { CaseSensitive = true });
        Assert.False(outcome.Accepted);
        Assert.Contains("expected \"Yes\", got \"yes\"", outcome.Message);
    }

    [Theory]
    [InlineData("1 2\n", "1 2\n", true)]
    [InlineData("1 2\n", "1  2\n", false)]
    [InlineData("1 2\n", "1 2", false)]
    [InlineData("1 2\n", "1 2\n\n", false)]
    [InlineData("1 2\n", " 1 2\n", false)]
    [InlineData("1\n2\n", "1 2\n", false)]
    [InlineData("1\r\n", "1\n", false)]
    public void Validate_SpaceChangeSensitive_RequiresIdenticalWhitespace(string answer, string output, bool accepted) =>
        Assert.Equal(accepted, Validate(answer, output, new ValidatorOptions { SpaceChangeSensitive = true }).Accepted);

    [Theory]
    [InlineData("1 2 3", "1 2")]
    [InlineData("1 2", "1 2 3")]
    [InlineData("1", "")]
    [InlineData("", "1")]
    [InlineData("abc", "abd")]
    public void Validate_TokenCountOrValueDiffers_Rejects(string answer, string output) =>
        Assert.False(Validate(answer, output).Accepted);

    [Fact]
    public void Validate_WithoutTolerance_ComparesNumbersAsText()
    {
        Assert.False(Validate("0.5", "0.50").Accepted);
        Assert.False(Validate("1", "1.0").Accepted);
        Assert.True(Validate("1E5", "1e5").Accepted); // case-insensitive text
    }

    [Theory]
    [InlineData("0.0314", "3.14000000e-2")]
    [InlineData("0.0314", "0.03140000001")]
    [InlineData("5", "5.0000000")]
    [InlineData("5", "+5")]
    [InlineData("-2.5", "-2.5000001")]
    [InlineData("100", "1e2")]
    [InlineData("0.5", ".5")]
    [InlineData("3", "3.")]
    public void Validate_FloatTolerance_AcceptsAnyFormatWithinTolerance(string answer, string output) =>
        Assert.True(Validate(answer, output, new ValidatorOptions { FloatAbsoluteTolerance = 1e-6, FloatRelativeTolerance = 1e-6 }).Accepted);

    [Theory]
    [InlineData("1.0", "1.00001")]
    [InlineData("1.0", "abc")]
    [InlineData("1.0", "nan")]
    [InlineData("1.0", "inf")]
    [InlineData("1.0", "0x1p0")]
    [InlineData("1.0", "1.0.0")]
    public void Validate_FloatTolerance_RejectsFarOrNonNumbers(string answer, string output) =>
        Assert.False(Validate(answer, output, new ValidatorOptions { FloatAbsoluteTolerance = 1e-6, FloatRelativeTolerance = 1e-6 }).Accepted);

    [Fact]
    public void Validate_AbsoluteOnly_UsesAbsoluteError()
    {
        var options = new ValidatorOptions { FloatAbsoluteTolerance = 0.01 };
        Assert.True(Validate("1000", "1000.009", options).Accepted);
        Assert.False(Validate("1000", "1000.02", options).Accepted);
    }

    [Fact]
    public void Validate_RelativeOnly_UsesErrorRelativeToTheAnswer()
    {
        var options = new ValidatorOptions { FloatRelativeTolerance = 0.01 };
        Assert.True(Validate("1000", "1009", options).Accepted);
        Assert.False(Validate("1000", "1011", options).Accepted);
        Assert.False(Validate("0", "0.000001", options).Accepted); // relative to 0: only exact
    }

    [Fact]
    public void Validate_BothTolerances_AcceptsWithinEither()
    {
        var options = new ValidatorOptions { FloatAbsoluteTolerance = 0.5, FloatRelativeTolerance = 0.001 };
        Assert.True(Validate("1000", "1000.9", options).Accepted); // relative ok, absolute not
        Assert.True(Validate("0.1", "0.5", options).Accepted); // absolute ok, relative not
        Assert.False(Validate("1000", "1002", options).Accepted);
    }

    [Fact]
    public void Validate_FloatTolerance_KeepsTextTokensCaseRules()
    {
        var options = new ValidatorOptions { FloatAbsoluteTolerance = 1e-6, CaseSensitive = true };
        Assert.True(Validate("Case #1: 0.5", "Case #1: 0.5000001", options).Accepted);
        Assert.False(Validate("Case #1: 0.5", "case #1: 0.5", options).Accepted);
    }

    [Fact]
    public void Validate_Mismatch_NamesTheLineOfOutputAndAnswer()
    {
        var outcome = Validate("1\n2\n3\n", "1\n2\n4\n");
        Assert.Equal("line 3 of output (line 3 of answer): expected \"3\", got \"4\"", outcome.Message);
    }

    [Fact]
    public void Validate_LongTokens_AreShortenedInTheMessage()
    {
        var outcome = Validate(new string('a', 1000), new string('b', 1000));
        Assert.True(outcome.Message!.Length < 200);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("-1.5e-3", true)]
    [InlineData("+.5E+10", true)]
    [InlineData("5.", true)]
    [InlineData(".", false)]
    [InlineData("e5", false)]
    [InlineData("1e", false)]
    [InlineData("1e400", false)]
    [InlineData("Infinity", false)]
    [InlineData("1,5", false)]
    [InlineData("", false)]
    public void TryParseFloat_AcceptsDecimalNumbersOnly(string token, bool isFloat) =>
        Assert.Equal(isFloat, DefaultValidator.TryParseFloat(Encoding.ASCII.GetBytes(token), out _));
}

public sealed class ValidatorFlagsTests
{
    [Fact]
    public void Apply_AllFlags_SetsOptions()
    {
        var options = ValidatorFlags.Apply(new ValidatorOptions(), ValidatorFlags.Split("case_sensitive  space_change_sensitive float_absolute_tolerance 1e-3 float_relative_tolerance 0.5"), "p.yaml");
        Assert.Equal(new ValidatorOptions { CaseSensitive = true, SpaceChangeSensitive = true, FloatAbsoluteTolerance = 1e-3, FloatRelativeTolerance = 0.5 }, options);
    }

    [Fact]
    public void Apply_FloatTolerance_SetsBothTolerances()
    {
        var options = ValidatorFlags.Apply(new ValidatorOptions(), ["float_tolerance", "1e-6"], "p.yaml");
        Assert.Equal(1e-6, options.FloatAbsoluteTolerance);
        Assert.Equal(1e-6, options.FloatRelativeTolerance);
    }

    [Theory]
    [InlineData("ignore_case")]
    [InlineData("float_tolerance")]
    [InlineData("float_tolerance abc")]
    [InlineData("float_tolerance -1")]
    public void Apply_BadFlags_ThrowsNamingTheFile(string flags)
    {
        var ex = Assert.Throws<ProblemFormatException>(() => ValidatorFlags.Apply(new ValidatorOptions(), ValidatorFlags.Split(flags), "pkg/problem.yaml"));
        Assert.Equal("pkg/problem.yaml", ex.File);
    }
}
