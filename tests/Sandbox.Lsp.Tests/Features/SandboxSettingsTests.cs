using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Lsp.Features.Configuration;
using Sandbox.Runner.Execution;

namespace Sandbox.Lsp.Tests.Features;

public sealed class SandboxSettingsTests
{
    private static SandboxSettings Parse(string json) => SandboxSettings.Parse(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Parse_ReadsTheSandboxSection()
    {
        var settings = Parse("""{ "sandbox": { "runnerUrl": "ws://h:1/rpc", "tokenFile": "/t", "stdinFile": "in.txt", "trace": "debug", "limits": { "timeLimitSeconds": 1.5, "memoryLimitMb": 32 } } }""");

        Assert.Equal(new SandboxSettings("ws://h:1/rpc", "/t", null, new LimitOverrides(1.5, 32), "in.txt", LogLevel.Debug), settings);
    }

    [Fact]
    public void Parse_AcceptsTheSectionWithoutWrapper_AndVsCodeTraceObject()
    {
        var settings = Parse("""{ "RunnerUrl": "  ", "token": "s3cret", "trace": { "server": "verbose" } }""");

        Assert.Null(settings.RunnerUrl);
        Assert.Equal("s3cret", settings.Token);
        Assert.Equal(LogLevel.Debug, settings.Trace);
    }

    [Fact]
    public void Parse_AcceptsVsCodesRunnerUrlShape()
    {
        var settings = Parse("""{ "sandbox": { "runner": { "url": "wss://r/rpc" }, "showResult": true } }""");

        Assert.Equal("wss://r/rpc", settings.RunnerUrl);
        Assert.True(settings.ShowResult);
    }

    [Fact]
    public void Parse_WrongType_Throws()
    {
        Assert.ThrowsAny<JsonException>(() => Parse("""{ "sandbox": { "limits": "fast" } }"""));
    }
}
