using System.Net;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary><c>sandbox serve</c> as a user starts it: the real executable with the embedded runner.</summary>
[Collection(CliCollection.Name)]
public sealed class ServeCommandProcessTests(CliFixture fixture)
{
    [Fact]
    public async Task Serve_PortZero_PrintsTheAddressServesThePageAndStopsOnSigterm()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var serve = CliServer.Start("serve", "--urls", "http://127.0.0.1:0", "--data", Path.Combine(fixture.Scratch, "serve-data"));
        var address = (await serve.WaitForLineAsync(@"^Sandbox playground listening on (?<url>http://127\.0\.0\.1:\d+)", timeout.Token)).Groups["url"].Value;

        using (var http = new HttpClient())
        {
            using var page = await http.GetAsync(new Uri(address + "/"), timeout.Token);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("Sandbox playground", await page.Content.ReadAsStringAsync(timeout.Token), StringComparison.Ordinal);
        }

        var engine = Assert.Single(SandboxContainers.InstancesOf(serve.Process.Id));

        await serve.SignalAsync("TERM");
        var code = await serve.WaitForExitAsync(timeout.Token);

        Assert.True(code == 0, $"exit {code}\n{serve}");
        SandboxContainers.AssertNoneLeft(engine);
    }
}
