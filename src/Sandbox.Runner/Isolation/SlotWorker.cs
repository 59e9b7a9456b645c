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
    private bool _stopping;

    public SlotWorker(string name)
    {
        var thread = new Thread(Loop) { IsBackground = true, Name = name };
        thread.Start();
    }

    /// <summary>
    /// Runs <paramref name="work"/> on this worker. The task completes on the worker, and what awaits it continues
    /// there up to its next await: the engine gives the container back and, in a loop of runs, sends the next one
    /// without a hop through the thread pool (which cost two thread wake-ups per run). Callers must never block
    /// synchronously in that continuation (the analyzers forbid it anyway); a long synchronous step would only delay
    /// this container's next run.
    /// </summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
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
