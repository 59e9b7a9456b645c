using Sandbox.Remote.Contract;
using Sandbox.Remote.InProcess;
using Sandbox.Remote.Tests.Infrastructure;

namespace Sandbox.Remote.Tests.InProcess;

public sealed class RunSchedulerTests : IDisposable
{
    private readonly CancellationTokenSource timeout = TestTimeouts.Create();

    private CancellationToken Timeout => timeout.Token;

    public void Dispose() => timeout.Dispose();

    [Fact]
    public async Task Acquire_FreeSlot_IsGrantedAtOnce()
    {
        var scheduler = new RunScheduler(slots: 2, maxQueue: 0);

        using var a = await scheduler.AcquireAsync("x", Timeout);
        using var b = await scheduler.AcquireAsync("x", Timeout);

        Assert.Equal(2, scheduler.Busy);
    }

    [Fact]
    public async Task Acquire_QueueFull_ThrowsHostBusy()
    {
        var scheduler = new RunScheduler(slots: 1, maxQueue: 1);
        using var running = await scheduler.AcquireAsync("x", Timeout);
        var waiting = scheduler.AcquireAsync("x", Timeout).AsTask();

        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => scheduler.AcquireAsync("y", Timeout).AsTask());

        Assert.Equal(SandboxErrorCode.HostBusy, error.Code);
        running.Dispose();
        (await waiting.Within(Timeout)).Dispose();
        Assert.Equal(0, scheduler.Busy);
    }

    [Fact]
    public async Task Release_ServesWaitingClientsRoundRobin()
    {
        var scheduler = new RunScheduler(slots: 1, maxQueue: 10);
        var running = await scheduler.AcquireAsync("busy", Timeout);
        var order = new List<string>();
        var waits = new List<Task>();
        foreach (var client in new[] { "a", "a", "a", "a", "b", "c" })
        {
            var acquire = scheduler.AcquireAsync(client, Timeout).AsTask();
            waits.Add(acquire.ContinueWith(
                t =>
                {
                    lock (order)
                    {
                        order.Add(client);
                    }

                    t.Result.Dispose();
                },
                TaskScheduler.Default));
        }

        running.Dispose();
        await Task.WhenAll(waits).Within(Timeout);

        Assert.Equal(["a", "b", "c", "a", "a", "a"], order);
    }

    [Fact]
    public async Task Cancel_WaitingRun_LeavesTheQueueAndFreesNothing()
    {
        var scheduler = new RunScheduler(slots: 1, maxQueue: 1);
        using var running = await scheduler.AcquireAsync("x", Timeout);
        using var cancel = new CancellationTokenSource();
        var waiting = scheduler.AcquireAsync("x", cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Within(Timeout));
        Assert.Equal(0, scheduler.Queued);
        Assert.Equal(1, scheduler.Busy);
    }

    [Fact]
    public async Task Lease_DisposedTwice_FreesOneSlot()
    {
        var scheduler = new RunScheduler(slots: 2, maxQueue: 0);
        var a = await scheduler.AcquireAsync("x", Timeout);
        using var b = await scheduler.AcquireAsync("x", Timeout);

        a.Dispose();
        a.Dispose();

        Assert.Equal(1, scheduler.Busy);
    }
}
