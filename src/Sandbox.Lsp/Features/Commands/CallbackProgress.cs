using Sandbox.Remote.Contract;

namespace Sandbox.Lsp.Features.Commands;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs its callback inline, in report order (unlike <see cref="Progress{T}"/>,
/// which posts to a synchronization context and can reorder output chunks). With <paramref name="restarted"/>, it is
/// also told when a queue runner started the run over on another host (everything reported before is void).
/// </summary>
internal sealed class CallbackProgress<T>(Action<T> callback, Action<RunAttempt>? restarted = null) : IProgress<T>, IRunAttemptObserver
{
    public void Report(T value) => callback(value);

    public void AttemptStarted(RunAttempt attempt)
    {
        if (attempt.IsRestart)
        {
            restarted?.Invoke(attempt);
        }
    }
}
