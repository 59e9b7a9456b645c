namespace Sandbox.Remote.Contract;

/// <summary>Closing a runner whose concrete type the caller does not know (a remote client, a queue client, a wrapper).</summary>
public static class SandboxRpcDisposal
{
    /// <summary>Disposes <paramref name="runner"/> if it is disposable (asynchronously when it can be); otherwise does nothing.</summary>
    public static async ValueTask DisposeIfDisposableAsync(this ISandboxRpc? runner)
    {
        switch (runner)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }
}
