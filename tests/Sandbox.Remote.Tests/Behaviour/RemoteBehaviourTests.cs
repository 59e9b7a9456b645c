using Microsoft.Extensions.DependencyInjection;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Remote.InProcess;
using Sandbox.Remote.Tests.Fakes;
using Sandbox.Remote.Tests.Infrastructure;

namespace Sandbox.Remote.Tests.Behaviour;

/// <summary>The behaviour suite over a real Kestrel runner host on 127.0.0.1 and <see cref="RemoteSandboxClient"/>.</summary>
public sealed class RemoteBehaviourTests : SandboxRpcBehaviourTests
{
    private HostHarness? host;
    private RemoteSandboxClient? client;

    internal override async Task<(ISandboxRpc Rpc, InProcessSandboxRpc Runner)> StartAsync(FakeEngine engine, RpcSettings settings, CancellationToken cancellationToken)
    {
        host = await HostHarness.StartAsync(
            engine,
            o =>
            {
                o.Slots = settings.Slots;
                o.MaxQueue = settings.MaxQueue;
                o.MaxLimits = settings.MaxLimits;
            },
            token: "a-test-token-that-is-long-enough",
            cancellationToken: cancellationToken);
        client = host.CreateClient();
        await client.ConnectAsync(cancellationToken);
        return (client, host.App.Services.GetRequiredService<InProcessSandboxRpc>());
    }

    protected override async ValueTask StopAsync()
    {
        if (client is not null)
        {
            await client.DisposeAsync();
        }

        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }
}
