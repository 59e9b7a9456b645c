using System.Text;
using Nerdbank.Streams;
using Sandbox.Remote.Contract;
using Sandbox.Remote.Tests.Infrastructure;
using Sandbox.Runner.Execution;
using StreamJsonRpc;

namespace Sandbox.Remote.Tests.Client;

/// <summary>The .NET side writes what docs/runner-host.md promises: camelCase, no nulls, kebab-case enums.</summary>
public sealed class WireSerializationTests
{
    [Fact]
    public async Task InvokeWithParameterObject_WritesCamelCaseWithoutNulls()
    {
        using var timeout = TestTimeouts.Create();
        var (sending, receiving) = FullDuplexStream.CreatePair();
        using var rpc = new JsonRpc(new NewLineDelimitedMessageHandler(sending, sending, SandboxJson.CreateFormatter()));
        rpc.StartListening();

        _ = rpc.InvokeWithParameterObjectAsync<RunResult>(
            SandboxRpcMethods.Run,
            new RunParams("python", "print(1)", Limits: new LimitOverrides(TimeLimitSeconds: 2), RunId: "r1"),
            timeout.Token);
        using var reader = new StreamReader(receiving, Encoding.UTF8);
        var line = await reader.ReadLineAsync(timeout.Token);

        Assert.Contains("""
            "params":{"language":"python","source":"print(1)","limits":{"timeLimitSeconds":2},"runId":"r1"}
            """.Trim(), line, StringComparison.Ordinal);
    }

    [Fact]
    public void Notification_WritesKebabCaseEnums()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new OutputNotification("r1", OutputStreamKind.Compile, "x"), SandboxJson.CreateOptions());

        Assert.Equal("""{"runId":"r1","stream":"compile","text":"x"}""", json);
    }

    [Fact]
    public void RunResult_OutputThatIsUtf8_HasNoBase64()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(
            new RunResult { Verdict = RunVerdict.Ok, Stdout = "hé\n", StdoutBytes = "hé\n"u8.ToArray() },
            SandboxJson.CreateOptions());

        Assert.DoesNotContain("Base64", json, StringComparison.Ordinal);
        Assert.Contains("\"stdout\":", json, StringComparison.Ordinal);
    }

    [Fact]
    public void RunResult_OutputThatIsNotUtf8_CarriesItsBytesInBase64AndReadsThemBack()
    {
        byte[] stdout = [0x61, 0xFF, 0x62];
        byte[] stderr = [0xC3];
        var options = SandboxJson.CreateOptions();
        var result = new RunResult { Verdict = RunVerdict.Ok, Stdout = "a\uFFFDb", Stderr = "\uFFFD", StdoutBytes = stdout, StderrBytes = stderr };

        var json = System.Text.Json.JsonSerializer.Serialize(result, options);
        var read = System.Text.Json.JsonSerializer.Deserialize<RunResult>(json, options)!;

        Assert.Contains("\"stdoutBase64\":\"Yf9i\"", json, StringComparison.Ordinal);
        Assert.Contains("\"stderrBase64\":\"ww==\"", json, StringComparison.Ordinal);
        Assert.Equal(stdout, read.StdoutBytes.ToArray());
        Assert.Equal(stderr, read.StderrBytes.ToArray());
        Assert.Equal("a\uFFFDb", read.Stdout);
    }

    [Fact]
    public void RunResult_FromAHostWithoutBase64_HasTheBytesOfItsText()
    {
        var read = System.Text.Json.JsonSerializer.Deserialize<RunResult>("""{"verdict":"ok","stdout":"hé\n","stderr":""}""", SandboxJson.CreateOptions())!;

        Assert.Equal("hé\n"u8.ToArray(), read.StdoutBytes.ToArray());
        Assert.True(read.StderrBytes.IsEmpty);
    }

    [Fact]
    public void OutputEvent_FromChunks_CarriesBytesOnlyWhenTheTextDoesNotSayThem()
    {
        Assert.Null(OutputEvent.From(new OutputChunk(OutputStreamKind.Stdout, "hé", "hé"u8.ToArray())).Bytes);
        // Not UTF-8; half a character (its text comes with the next chunk); the end of a stream cut mid-character.
        Assert.Equal([0xFF], OutputEvent.From(new OutputChunk(OutputStreamKind.Stdout, "\uFFFD", new byte[] { 0xFF })).Bytes!.Value.ToArray());
        Assert.Equal([0xC3], OutputEvent.From(new OutputChunk(OutputStreamKind.Stdout, "", new byte[] { 0xC3 })).Bytes!.Value.ToArray());
        Assert.True(OutputEvent.From(new OutputChunk(OutputStreamKind.Stdout, "\uFFFD", ReadOnlyMemory<byte>.Empty)).Bytes!.Value.IsEmpty);
        // Valid bytes after a chunk that ended mid-character: the decoder's U+FFFD for the unfinished one leads the text.
        Assert.Equal("a"u8.ToArray(), OutputEvent.From(new OutputChunk(OutputStreamKind.Stdout, "\uFFFDa", "a"u8.ToArray())).Bytes!.Value.ToArray());
    }
}
