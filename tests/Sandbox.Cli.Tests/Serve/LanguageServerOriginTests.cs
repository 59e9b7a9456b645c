using Microsoft.AspNetCore.Http;
using Sandbox.Cli.Serve;

namespace Sandbox.Cli.Tests.Serve;

public sealed class LanguageServerOriginTests
{
    [Theory]
    [InlineData("127.0.0.1:8080", null, true)]
    [InlineData("127.0.0.1:8080", "http://127.0.0.1:8080", true)]
    [InlineData("play.example.org", "https://play.example.org", true)]
    [InlineData("PLAY.example.org", "https://play.example.org", true)]
    [InlineData("127.0.0.1:8080", "http://evil.example", false)]
    [InlineData("127.0.0.1:8080", "http://127.0.0.1:9999", false)]
    [InlineData("127.0.0.1:8080", "http://localhost:8080", false)]
    [InlineData("127.0.0.1:8080", "null", false)]
    public void Origin_OnlyThisServersPageOrNoBrowserIsAllowed(string host, string? origin, bool allowed)
    {
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString(host);
        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }

        Assert.Equal(allowed, LanguageServerWiring.IsAllowedOrigin(context.Request, []));
    }

    [Theory]
    [InlineData("http://localhost:3000", true)]
    [InlineData("HTTP://LOCALHOST:3000", true)]
    [InlineData("http://localhost:3001", false)]
    [InlineData("http://evil.example", false)]
    public void Origin_ListedOriginsAreAllowedToo(string origin, bool allowed)
    {
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString("127.0.0.1:7071");
        context.Request.Headers.Origin = origin;

        Assert.Equal(allowed, LanguageServerWiring.IsAllowedOrigin(context.Request, ["http://localhost:3000"]));
        Assert.True(LanguageServerWiring.IsAllowedOrigin(context.Request, ["*"]));
    }
}
