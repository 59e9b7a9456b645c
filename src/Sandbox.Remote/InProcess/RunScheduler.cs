using Sandbox.Remote.Contract;

namespace Sandbox.Remote.InProcess;

/// <summary>
/// Admission control: at most <see cref="Slots"/> runs at once, up to <see cref="MaxQueue"/> waiting, the rest refused
/// with <see cref="SandboxErrorCode.HostBusy"/> at once. Waiting runs are served round-robin between clients
/// (connections), FIFO within a client, so one chatty connection cannot starve the others.
/// </summary>
internal sealed class RunScheduler
{
    private readonly object gate = new();
    private readonly LinkedList<ClientQueue> ready = new();
    private readonly Dictionary<string, ClientQueue> clients = new(StringComparer.Ordinal);
    private int busy;
    private int queued;

    public RunScheduler(int slots, int maxQueue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxQueue);
        Slots = slots;
        MaxQueue = maxQueue;
    }

    /// <summary>Runs that can execute at once.</summary>
    public int Slots { get; }

    /// <summary>Runs that may wait.</summary>
    public int MaxQueue { get; }

    /// <summary>Slots in use now.</summary>
    public int Busy
    {
        get
        {
            lock (gate)
            {
                return busy;
            }
        }
    }

    /// <summary>Runs waiting now.</summary>
    public int Queued
    {
        get
        {
            lock (gate)
            {
                return queued;
            }
        }
    }

    /// <summary>Waits for a slot; dispose the lease to free it. Throws <see cref="SandboxRpcException"/> when the queue is full.</summary>
    public async ValueTask<IDisposable> AcquireAsync(string client, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (gate)
        {
            if (busy < Slots && queued == 0)
            {
                busy++;
                return new Lease(this);
            }

            if (queued >= MaxQueue)
            {
                throw new SandboxRpcException(
                    SandboxErrorCode.HostBusy,
                    $"the runner is busy ({busy} running, {queued} waiting, the queue holds {MaxQueue}); try again in a moment");
            }

            if (!clients.TryGetValue(client, out var queue))
            {
                queue = new ClientQueue(client);
                clients.Add(client, queue);
            }

            waiter = new Waiter(queue);
            queue.Waiters.AddLast(waiter.Node);
            if (queue.Node.List is null)
            {
                ready.AddLast(queue.Node);
            }

            queued++;
        }

        // Either Abandon cancels the waiter while it is still queued, or Release grants it after taking it off the
        // queue; both happen under the lock, so a waiter ends exactly one way and a granted slot is never lost.
        using (cancellationToken.Register(() => Abandon(waiter)))
        {
            await waiter.Granted.Task.ConfigureAwait(false);
        }

        return new Lease(this);
    }

    private void Abandon(Waiter waiter)
    {
        lock (gate)
        {
            if (waiter.Node.List is null)
            {
                // Already granted: the caller still gets its lease and disposes it when it sees the cancellation.
                return;
            }

            Remove(waiter);
        }

        waiter.Granted.TrySetCanceled();
    }

    private void Remove(Waiter waiter)
    {
        var queue = waiter.Queue;
        queue.Waiters.Remove(waiter.Node);
        queued--;
        if (queue.Waiters.Count == 0)
        {
            if (queue.Node.List is not null)
            {
                ready.Remove(queue.Node);
            }

            clients.Remove(queue.Client);
        }
    }

    private void Release()
    {
        Waiter? next = null;
        lock (gate)
        {
            busy--;
            if (ready.First is { } first)
            {
                var queue = first.Value;
                next = queue.Waiters.First!.Value;
                Remove(next);
                // Round-robin: a client that still waits goes to the back of the line.
                if (queue.Waiters.Count > 0)
                {
                    if (queue.Node.List is not null)
                    {
                        ready.Remove(queue.Node);
                    }

                    ready.AddLast(queue.Node);
                }

                busy++;
            }
        }

        next?.Granted.TrySetResult();
    }

    private sealed class ClientQueue
    {
        public ClientQueue(string client)
        {
            Client = client;
            Node = new LinkedListNode<ClientQueue>(this);
        }

        public string Client { get; }

        public LinkedListNode<ClientQueue> Node { get; }

        public LinkedList<Waiter> Waiters { get; } = new();
    }

    private sealed class Waiter
    {
        public Waiter(ClientQueue queue)
        {
            Queue = queue;
            Node = new LinkedListNode<Waiter>(this);
        }

        public ClientQueue Queue { get; }

        public LinkedListNode<Waiter> Node { get; }

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Lease(RunScheduler scheduler) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                scheduler.Release();
            }
        }
    }
}
