using Sandbox.Runner.Isolation;

namespace Sandbox.Runner.Tests.Isolation;

/// <summary>A container's thread: work sent from elsewhere runs on it in order; work it sends itself runs at once.</summary>
public sealed class SlotWorkerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Work_FromAnotherThread_RunsOnTheWorker()
    {
        using var worker = new SlotWorker("test worker");
        var caller = Environment.CurrentManagedThreadId;
        var ranOn = await worker.RunAsync(() => Environment.CurrentManagedThreadId).WaitAsync(Timeout);
        Assert.NotEqual(caller, ranOn);
    }

    [Fact]
    public async Task Work_FromTheWorkerItself_WithNothingQueued_RunsAtOnce_OnTheWorker()
    {
        using var worker = new SlotWorker("test worker");
        var (outer, completedAtOnce, inner, failed) = await worker.RunAsync(() =>
        {
            var inner = worker.RunAsync(() => Environment.CurrentManagedThreadId);
            var failed = worker.RunAsync<int>(() => throw new InvalidOperationException("from the work"));
            return (Environment.CurrentManagedThreadId, inner.IsCompleted && failed.IsCompleted, inner, failed);
        }).WaitAsync(Timeout);
        Assert.True(completedAtOnce);
        Assert.Equal(outer, await inner);
        Assert.Equal("from the work", (await Assert.ThrowsAsync<InvalidOperationException>(() => failed)).Message);
    }

    [Fact]
    public async Task Work_FromTheWorkerItself_BehindQueuedWork_WaitsItsTurn()
    {
        using var worker = new SlotWorker("test worker");
        var order = new List<string>();
        var (queuedFirst, sentSecond, completedAtOnce) = await worker.RunAsync(() =>
        {
            // Queued from another thread while this work runs, so the worker's queue is not empty.
            Task<int>? first = null;
            var other = new Thread(() => first = worker.RunAsync(() => { order.Add("first"); return 1; }));
            other.Start();
            other.Join();
            var second = worker.RunAsync(() => { order.Add("second"); return 2; });
            return (first!, second, second.IsCompleted);
        }).WaitAsync(Timeout);
        Assert.False(completedAtOnce);
        var results = await Task.WhenAll(queuedFirst, sentSecond).WaitAsync(Timeout);
        Assert.Equal([1, 2], results);
        Assert.Equal(["first", "second"], order);
    }
}
