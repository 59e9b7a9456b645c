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
}
