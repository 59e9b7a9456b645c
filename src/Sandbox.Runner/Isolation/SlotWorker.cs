namespace Sandbox.Runner.Isolation;

/// <summary>
/// A container's own thread. A run's loop (send the request, poll the agent and the output pipes together, reset)
/// is a handful of blocking system calls; doing them on a thread that already exists costs less than any
/// asynchronous machinery around them, and no thread-pool thread ever waits for a program.
/// </summary>
/// <remarks>
/// The queue is a plain monitor: an idle worker sleeps in the kernel at once. A spinning wait (BlockingCollection,
/// SemaphoreSlim) yields the CPU in a loop first, and with every slot busy those yields took CPU time from the
/// sandboxed programs themselves (measured: about a third of the host's CPU per /bin/true run).
/// </remarks>
internal sealed class SlotWorker : IDisposable
{
    private readonly Queue<Action> _work = new();
    private readonly Thread _thread;
    private bool _stopping;

    public SlotWorker(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>
    /// Runs <paramref name="work"/> on this worker. The task completes on the worker, and what awaits it continues
    /// there up to its next await: the engine gives the container back and, in a loop of runs, sends the next one
    /// without a hop through the thread pool (which cost two thread wake-ups per run). Callers must never block
    /// synchronously in that continuation (the analyzers forbid it anyway); a long synchronous step would only delay
    /// this container's next run.
    /// </summary>
    /// <remarks>
    /// Called on this worker with nothing queued (the continuation of this container's last run sending its next one),
    /// the work runs at once and the task returned is complete: the caller's awaits go on without suspending (measured
    /// in an interleaved A/B: the host's CPU per <c>/bin/true</c> run 79 → 71 µs and 54 → 51 µs in two rounds). So such a
    /// continuation that starts several runs meaning them to overlap must leave this thread first (the judge does,
    /// with <c>Task.Yield</c>): each would otherwise end before the next began whenever it got this container again.
    /// </remarks>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        if (Thread.CurrentThread == _thread)
        {
            bool inline;
            lock (_work)
            {
                inline = _work.Count == 0 && !_stopping;
            }

            if (inline)
            {
                try
                {
                    return Task.FromResult(work());
                }
                catch (Exception e)
                {
                    return Task.FromException<T>(e);
                }
            }
        }

        var completion = new TaskCompletionSource<T>();
        lock (_work)
        {
            if (_stopping)
            {
                completion.SetException(new AgentException("the container is stopping"));
                return completion.Task;
            }

            _work.Enqueue(() =>
            {
                try
                {
                    completion.SetResult(work());
                }
                catch (Exception e)
                {
                    completion.SetException(e);
                }
            });
            Monitor.Pulse(_work);
        }

        return completion.Task;
    }

    private void Loop()
    {
        while (true)
        {
            Action item;
            lock (_work)
            {
                while (_work.Count == 0)
                {
                    if (_stopping)
                    {
                        return;
                    }

                    Monitor.Wait(_work);
                }

                item = _work.Dequeue();
            }

            item();
        }
    }

    /// <summary>Lets the thread finish what it was given and end.</summary>
    public void Dispose()
    {
        lock (_work)
        {
            _stopping = true;
            Monitor.Pulse(_work);
        }
    }
}
