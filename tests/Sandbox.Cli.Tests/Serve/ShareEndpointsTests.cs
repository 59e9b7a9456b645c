using System.Net;
using System.Net.Http.Json;
using System.Text;
using Sandbox.Cli.Serve;

namespace Sandbox.Cli.Tests.Serve;

public sealed class ShareEndpointsTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    private PlaygroundFixture _fixture = null!;

    private HttpClient Client => _fixture.Client;

    private static object ValidShare(string source = "print('hi')\n") => new
    {
        language = "python",
        source,
        stdin = "3\n",
        problem = "fizzbuzz",
        output = new[] { new { stream = "stdout", text = "hi\n" }, new { stream = "stderr", text = "oops\n" } },
        status = "OK · exit 0",
    };

    public async Task InitializeAsync() => _fixture = await PlaygroundFixture.StartAsync();

    public async Task DisposeAsync()
    {
        await _fixture.DisposeAsync();
        _timeout.Dispose();
    }

    [Fact]
    public async Task Post_ValidShare_Returns201WithShortLink_AndGetReturnsIt()
    {
        using var response = await Client.PostAsJsonAsync("/api/shares", ValidShare(), _timeout.Token);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<ShareCreated>(_timeout.Token);
        Assert.NotNull(created);
        Assert.True(ShareId.IsWellFormed(created.Id));
        Assert.Equal($"/s/{created.Id}", created.Url);
        Assert.Equal(created.Url, response.Headers.Location?.OriginalString);

        var share = await Client.GetFromJsonAsync<ShareResponse>($"/api/shares/{created.Id}", _timeout.Token);
        Assert.NotNull(share);
        Assert.Equal("python", share.Language);
        Assert.Equal("print('hi')\n", share.Source);
        Assert.Equal("3\n", share.Stdin);
        Assert.Equal("fizzbuzz", share.Problem);
        Assert.Equal("OK · exit 0", share.Status);
        Assert.Equal([new SharedOutputChunk("stdout", "hi\n"), new SharedOutputChunk("stderr", "oops\n")], share.Output);
    }

    [Fact]
    public async Task SharePage_KnownId_ServesThePage()
    {
        using var post = await Client.PostAsJsonAsync("/api/shares", ValidShare(), _timeout.Token);
        var created = await post.Content.ReadFromJsonAsync<ShareCreated>(_timeout.Token);

        using var page = await Client.GetAsync(created!.Url, _timeout.Token);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains(PlaygroundFixture.IndexMarker, await page.Content.ReadAsStringAsync(_timeout.Token), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/s/AAAAAAAAAAAAAAAA")]
    [InlineData("/s/short")]
    public async Task SharePage_UnknownId_Returns404WithThePage(string path)
    {
        using var page = await Client.GetAsync(path, _timeout.Token);

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Contains(PlaygroundFixture.IndexMarker, await page.Content.ReadAsStringAsync(_timeout.Token), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAA")]
    [InlineData("not-an-id")]
    public async Task Get_UnknownId_Returns404(string id)
    {
        using var response = await Client.GetAsync($"/api/shares/{id}", _timeout.Token);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Post_SourceOverTheLimit_Returns400NamingTheField()
    {
        var tooLong = new string('x', _fixture.Options.Shares.MaxSourceChars + 1);

        using var response = await Client.PostAsJsonAsync("/api/shares", ValidShare(tooLong), _timeout.Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("source", await response.Content.ReadAsStringAsync(_timeout.Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_OutputOverTheLimit_Returns400()
    {
        var share = new
        {
            language = "python",
            source = "x",
            output = new[] { new { stream = "stdout", text = new string('y', _fixture.Options.Shares.MaxOutputChars + 1) } },
        };

        using var response = await Client.PostAsJsonAsync("/api/shares", share, _timeout.Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Post_UnknownOutputStream_Returns400()
    {
        var share = new { language = "python", source = "x", output = new[] { new { stream = "<script>", text = "y" } } };

        using var response = await Client.PostAsJsonAsync("/api/shares", share, _timeout.Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Post_MissingLanguage_Returns400()
    {
        using var response = await Client.PostAsJsonAsync("/api/shares", new { source = "x" }, _timeout.Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Post_BodyOverTheByteLimit_Returns413()
    {
        using var content = new ByteArrayContent(new byte[_fixture.Options.Shares.MaxRequestBytes + 1]);
        content.Headers.ContentType = new("application/json");

        using var response = await Client.PostAsync("/api/shares", content, _timeout.Token);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Post_NotJson_Returns415()
    {
        using var content = new StringContent("language=python", Encoding.UTF8, "application/x-www-form-urlencoded");

        using var response = await Client.PostAsync("/api/shares", content, _timeout.Token);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Post_BrokenJson_Returns400()
    {
        using var content = new StringContent("{\"language\": ", Encoding.UTF8, "application/json");

        using var response = await Client.PostAsync("/api/shares", content, _timeout.Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Root_ServesThePage_WithAStrictContentSecurityPolicy()
    {
        using var response = await Client.GetAsync("/", _timeout.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(PlaygroundFixture.IndexMarker, await response.Content.ReadAsStringAsync(_timeout.Token), StringComparison.Ordinal);
        var csp = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task StaticFile_IsServedWithRevalidation()
    {
        using var response = await Client.GetAsync("/app.js", _timeout.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoCache);
    }
}

public sealed class ShareRateLimitTests
{
    [Fact]
    public async Task Post_PastTheBurst_Returns429WithRetryAfter()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var fixture = await PlaygroundFixture.StartAsync(new ShareLimits
        {
            BurstPerClient = 3,
            PerClientPerPeriod = 1,
            ReplenishPeriod = TimeSpan.FromHours(1),
        });
        var share = new { language = "python", source = "print(1)" };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await fixture.Client.PostAsJsonAsync("/api/shares", share, timeout.Token);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(response.Headers.RetryAfter is not null, "429 carries Retry-After");
            }
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests], statuses);
        // Reading shares is not limited.
        using var read = await fixture.Client.GetAsync("/healthz", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }
}
