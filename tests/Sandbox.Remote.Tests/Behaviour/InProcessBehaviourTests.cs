using Microsoft.Extensions.DependencyInjection;
using Sandbox.Remote.Contract;
using Sandbox.Remote.InProcess;
using Sandbox.Remote.Tests.Fakes;

namespace Sandbox.Remote.Tests.Behaviour;

/// <summary>The behaviour suite against the in-process implementation (the embedded runner).</summary>
public sealed class InProcessBehaviourTests : SandboxRpcBehaviourTests
{
    private ServiceProvider? services;

    internal override Task<(ISandboxRpc Rpc, InProcessSandboxRpc Runner)> StartAsync(FakeEngine engine, RpcSettings settings, CancellationToken cancellationToken)
    {
        var collection = new ServiceCollection().AddLogging();
        engine.Register(collection);
        collection.AddSandboxRpc(o =>
        {
            o.Slots = settings.Slots;
            o.MaxQueue = settings.MaxQueue;
            o.MaxLimits = settings.MaxLimits;
        });
        services = collection.BuildServiceProvider();
        return Task.FromResult((services.GetRequiredService<ISandboxRpc>(), services.GetRequiredService<InProcessSandboxRpc>()));
    }

    protected override async ValueTask StopAsync()
    {
        if (services is not null)
        {
            await services.DisposeAsync();
        }
    }
}
