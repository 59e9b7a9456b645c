namespace Sandbox.Remote.Tests.RealEngine;

/// <summary>
/// Tests on the real engine run one at a time and apart from the rest, so the load figure is not skewed and
/// the timing tests elsewhere do not share two cores with LXC containers.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealEngineCollection
{
    public const string Name = "real-engine";
}
