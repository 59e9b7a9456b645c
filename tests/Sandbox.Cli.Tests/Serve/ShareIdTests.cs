using Sandbox.Cli.Serve;

namespace Sandbox.Cli.Tests.Serve;

public class ShareIdTests
{
    [Fact]
    public void New_ManyIds_AreWellFormedAndDistinct()
    {
        var ids = Enumerable.Range(0, 20_000).Select(_ => ShareId.New()).ToList();

        Assert.All(ids, id => Assert.True(ShareId.IsWellFormed(id), id));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void New_CharactersAreSpreadOverTheAlphabet()
    {
        // A generator stuck on a few characters (or a counter) would leave most of the 62 unused.
        var used = Enumerable.Range(0, 200).SelectMany(_ => ShareId.New()).Distinct().Count();

        Assert.Equal(62, used);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("0123456789abcdef0")]
    [InlineData("0123456789abcde/")]
    [InlineData("0123456789abcde-")]
    [InlineData("../../etc/passwd")]
    public void IsWellFormed_WrongShape_IsFalse(string? id) => Assert.False(ShareId.IsWellFormed(id));
}
