using Sandbox.Remote.Client;
using Sandbox.Remote.Queue;

namespace Sandbox.Remote.Tests.Queue;

/// <summary>The queue's connection settings fail closed: no credentials off loopback, no secrets in URLs or in readable files.</summary>
public sealed class QueueConnectionTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("sandbox-queue-conn-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("nats://127.0.0.1:4222")]
    [InlineData("tls://queue.example:4222")]
    [InlineData("nats://[::1]:4222")]
    public void ParseUrl_NatsOrTls_IsAccepted(string url)
    {
        Assert.Equal(url.Split(':')[0], QueueConnection.ParseUrl(url, "--queue").Scheme);
    }

    [Theory]
    [InlineData("ws://127.0.0.1:4222", "must be a NATS URL")]
    [InlineData("nats://admin:admin@127.0.0.1:4222", "no user or password")]
    [InlineData("nats://127.0.0.1:4222/jobs", "no path")]
    [InlineData("127.0.0.1:4222", "must be a NATS URL")]
    public void ParseUrl_Unusable_IsAUsageError(string url, string hint)
    {
        var error = Assert.Throws<SandboxUsageException>(() => QueueConnection.ParseUrl(url, "--queue"));

        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_LoopbackWithoutCredentials_IsAllowed()
    {
        new QueueConnection { Url = new Uri("nats://127.0.0.1:4222") }.Validate("--queue");
    }

    [Theory]
    [InlineData("nats://queue.example:4222")]
    [InlineData("nats://0.0.0.0:4222")]
    [InlineData("tls://10.1.2.3:4222")]
    public void Validate_RemoteWithoutCredentials_IsRefused(string url)
    {
        var error = Assert.Throws<SandboxUsageException>(() => new QueueConnection { Url = new Uri(url) }.Validate("--queue"));

        Assert.Contains("without credentials", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TokenFileReadableByOthers_IsRefused()
    {
        var file = Path.Combine(dir, "token");
        File.WriteAllText(file, "secret-token-0123456789");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var error = Assert.Throws<SandboxUsageException>(() => new QueueConnection { Url = new Uri("nats://queue.example:4222"), TokenFile = file }.Validate("--queue"));

        Assert.Contains("chmod 600", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RemoteWithPrivateTokenFile_IsAllowed()
    {
        var file = Path.Combine(dir, "token");
        File.WriteAllText(file, "secret-token-0123456789");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        new QueueConnection { Url = new Uri("tls://queue.example:4222"), TokenFile = file }.Validate("--queue");
    }

    [Fact]
    public void Validate_UserWithoutPassword_IsRefused()
    {
        var error = Assert.Throws<SandboxUsageException>(() => new QueueConnection { Url = new Uri("nats://127.0.0.1:4222"), User = "sandbox-host" }.Validate("--queue"));

        Assert.Contains("password", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a.b")]
    [InlineData("x*")]
    [InlineData("")]
    public void Validate_SubjectPrefixWithWildcardsOrDots_IsRefused(string prefix)
    {
        Assert.Throws<SandboxUsageException>(() => new QueueConnection { Url = new Uri("nats://127.0.0.1:4222"), SubjectPrefix = prefix }.Validate("--queue"));
    }
}
