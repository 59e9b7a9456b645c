using System.Collections.Concurrent;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Scale.Tests.Infrastructure;

/// <summary>Records what a job streamed and which hosts started it.</summary>
public sealed class JobRecorder : IProgress<OutputEvent>, IProgress<TestResult>, IRunAttemptObserver
{
    private readonly ConcurrentQueue<RunAttempt> attempts = new();
    private readonly ConcurrentQueue<OutputEvent> output = new();
    private readonly ConcurrentQueue<TestResult> tests = new();
    private readonly TaskCompletionSource<RunAttempt> started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> firstOutput = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Called on every start (tests use it to act while a job runs).</summary>
    public Action<RunAttempt>? OnStarted { get; init; }

    public IReadOnlyList<RunAttempt> Attempts => [.. attempts];

    public IReadOnlyList<TestResult> Tests => [.. tests];

    /// <summary>Stdout streamed since the last start.</summary>
    public string Stdout { get; private set; } = "";

    /// <summary>Completes at the first start.</summary>
    public Task<RunAttempt> Started => started.Task;

    /// <summary>Completes at the first output chunk.</summary>
    public Task<string> FirstOutput => firstOutput.Task;

    public void AttemptStarted(RunAttempt attempt)
    {
        attempts.Enqueue(attempt);
        Stdout = "";
        started.TrySetResult(attempt);
        OnStarted?.Invoke(attempt);
    }

    public void Report(OutputEvent value)
    {
        output.Enqueue(value);
        if (value.Stream == OutputStreamKind.Stdout)
        {
            Stdout += value.Text;
        }

        firstOutput.TrySetResult(value.Text);
    }

    public void Report(TestResult value) => tests.Enqueue(value);
}
