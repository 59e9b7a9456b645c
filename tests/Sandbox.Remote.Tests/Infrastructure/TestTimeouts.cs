namespace Sandbox.Remote.Tests.Infrastructure;

/// <summary>Every await in these tests is bounded by one test-wide token, so a hang fails the test instead of the run.</summary>
internal static class TestTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    public static CancellationTokenSource Create(TimeSpan? timeout = null) => new(timeout ?? Default);

    /// <summary>Awaits a task under the token; fails with a clear message when the time runs out.</summary>
    public static async Task<T> Within<T>(this Task<T> task, CancellationToken timeout) => await task.WaitAsync(timeout);

    /// <inheritdoc cref="Within{T}(Task{T}, CancellationToken)"/>
    public static async Task Within(this Task task, CancellationToken timeout) => await task.WaitAsync(timeout);
}
