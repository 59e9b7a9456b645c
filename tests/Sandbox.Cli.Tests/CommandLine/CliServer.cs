using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>
/// A long-running <c>sandbox</c> process (host, serve, a run to interrupt) whose output lines are collected as they
/// arrive, so a test can wait for a line (an address, a marker) instead of sleeping.
/// </summary>
internal sealed class CliServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Lock _gate = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Found)> _waiters = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CliServer(Process process) => _process = process;

    public Process Process => _process;

    public string Stdout
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    public static CliServer Start(params string[] args)
    {
        var process = new Process { StartInfo = Cli.StartInfo(args), EnableRaisingEvents = true };
        var server = new CliServer(process);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data, server._stdout, server._stdoutClosed);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data, server._stderr, server._stderrClosed);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Waits for a line on stdout or stderr matching <paramref name="pattern"/>; fails if the process ends first.</summary>
    public async Task<Match> WaitForLineAsync(string pattern, CancellationToken cancellationToken)
    {
        var regex = new Regex(pattern, RegexOptions.Multiline);
        TaskCompletionSource<Match> found = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            foreach (var text in new[] { _stdout.ToString(), _stderr.ToString() })
            {
                if (regex.Match(text) is { Success: true } already)
                {
                    return already;
                }
            }

            _waiters.Add((regex, found));
        }

        var exited = _process.WaitForExitAsync(cancellationToken);
        var first = await Task.WhenAny(found.Task, exited).WaitAsync(cancellationToken);
        if (first == found.Task)
        {
            return await found.Task;
        }

        await exited;
        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cancellationToken);
        return found.Task.IsCompleted
            ? await found.Task
            : throw new InvalidOperationException($"sandbox exited ({_process.ExitCode}) before printing /{pattern}/\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
    }

    /// <summary>Waits for the process to end (and its output to be read) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cancellationToken);
        return _process.ExitCode;
    }

    public Task SignalAsync(string signal) => Cli.SignalAsync(_process, signal);

    /// <summary>SIGTERM ends the server with exit code 0, and the containers of its engine are gone afterwards.</summary>
    public async Task AssertStopsCleanlyOnTermAsync(CancellationToken cancellationToken)
    {
        var engine = Assert.Single(SandboxContainers.InstancesOf(_process.Id));

        await SignalAsync("TERM");
        var code = await WaitForExitAsync(cancellationToken);

        Assert.True(code == 0, $"exit {code}\n{this}");
        SandboxContainers.AssertNoneLeft(engine);
    }

    public override string ToString() => $"--- stdout\n{Stdout}\n--- stderr\n{Stderr}";

    public async ValueTask DisposeAsync()
    {
        await Cli.KillAsync(_process);

        _process.Dispose();
    }

    private void OnLine(string? line, StringBuilder buffer, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (_gate)
        {
            buffer.Append(line).Append('\n');
            var text = buffer.ToString();
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Pattern.Match(text) is { Success: true } match)
                {
                    _waiters[i].Found.TrySetResult(match);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}
