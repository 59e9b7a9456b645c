using System.Collections.Concurrent;

namespace Sandbox.Runner.Isolation;

/// <summary>
/// A container's own thread. A run's loop (send the request, poll the agent and the output pipes together, reset)
/// is a handful of blocking system calls; doing them on a thread that already exists costs less than any
/// asynchronous machinery around them, and no thread-pool thread ever waits for a program.
/// </summary>
internal sealed class SlotWorker : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];

    public SlotWorker(string name)
    {
        var thread = new Thread(Loop) { IsBackground = true, Name = name };
        thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on this worker; the result (or exception) completes the task on the thread pool.</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _work.Add(() =>
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
        }
        catch (InvalidOperationException)
        {
            completion.SetException(new AgentException("the container is stopping"));
        }

        return completion.Task;
    }

    private void Loop()
    {
        foreach (var item in _work.GetConsumingEnumerable())
        {
            item();
        }

        _work.Dispose();
    }

    /// <summary>Lets the thread finish what it was given and end.</summary>
    public void Dispose() => _work.CompleteAdding();
}
