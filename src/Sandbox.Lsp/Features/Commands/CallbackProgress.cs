namespace Sandbox.Lsp.Features.Commands;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs its callback inline, in report order (unlike <see cref="Progress{T}"/>,
/// which posts to a synchronization context and can reorder output chunks).
/// </summary>
internal sealed class CallbackProgress<T>(Action<T> callback) : IProgress<T>
{
    public void Report(T value) => callback(value);
}
