using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sandbox.Remote.Contract;

namespace Sandbox.Remote.InProcess;

/// <summary>Service registration of the in-process <see cref="ISandboxRpc"/>.</summary>
public static class SandboxRpcServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="InProcessSandboxRpc"/> as <see cref="ISandboxRpc"/> and <see cref="SandboxMetrics"/>.
    /// The engine (ICodeRunner, IJudge, ILanguageCatalog, IProblemLibrary) is registered separately.
    /// </summary>
    public static IServiceCollection AddSandboxRpc(this IServiceCollection services, Action<SandboxRpcOptions>? configure = null)
    {
        var builder = services.AddOptions<SandboxRpcOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        services.TryAddSingleton<SandboxMetrics>();
        services.TryAddSingleton<InProcessSandboxRpc>();
        services.TryAddSingleton<ISandboxRpc>(sp => sp.GetRequiredService<InProcessSandboxRpc>());
        return services;
    }
}
