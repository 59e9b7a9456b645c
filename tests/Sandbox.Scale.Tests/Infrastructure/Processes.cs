using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sandbox.Scale.Tests.Infrastructure;

/// <summary>A child process whose output lines are kept and can be waited for (no sleeps: each wait ends on a line or a timeout).</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> lines = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> waiters = [];
    private readonly Lock gate = new();

    private ChildProcess(Process process)
    {
        this.process = process;
    }

    /// <summary>The process id.</summary>
    public int Pid => process.Id;

    /// <summary>Whether it has exited.</summary>
    public bool HasExited => process.HasExited;

    /// <summary>Its output so far (stdout and stderr interleaved).</summary>
    public string Output => string.Join('\n', lines);

    /// <summary>Starts <paramref name="file"/> with <paramref name="arguments"/>.</summary>
    public static ChildProcess Start(string file, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Hosts here die by SIGKILL on purpose: without its diagnostic IPC the .NET runtime leaves no
        // clr-debug-pipe-* / dotnet-diagnostic-* files in /tmp behind (it removes them only on a normal exit).
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Output lines so far; pass it to <see cref="WaitForNewLineAsync"/> to wait only for lines written after now.</summary>
    public int LineCount => lines.Count;

    /// <summary>Waits for a line containing <paramref name="text"/> written after the first <paramref name="after"/> lines.</summary>
    public Task<string> WaitForNewLineAsync(string text, int after, CancellationToken cancellationToken)
    {
        var index = 0;
        var gateIndex = new Lock();
        // Lines are matched in order, once each (earlier ones first, then each new one as it arrives).
        return WaitForLineAsync(
            line =>
            {
                lock (gateIndex)
                {
                    return index++ >= after && line.Contains(text, StringComparison.Ordinal);
                }
            },
            cancellationToken);
    }

    /// <summary>Waits for an output line (already written or still to come) that contains <paramref name="text"/>.</summary>
    public Task<string> WaitForLineAsync(string text, CancellationToken cancellationToken) =>
        WaitForLineAsync(line => line.Contains(text, StringComparison.Ordinal), cancellationToken);

    /// <summary>Waits for an output line matching <paramref name="match"/>.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, CancellationToken cancellationToken)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            var earlier = lines.FirstOrDefault(match);
            if (earlier is not null)
            {
                return earlier;
            }

            waiters.Add((match, seen));
        }

        var exited = process.WaitForExitAsync(cancellationToken);
        var first = await Task.WhenAny(seen.Task, exited).WaitAsync(cancellationToken);
        if (first != seen.Task && !seen.Task.IsCompleted)
        {
            throw new InvalidOperationException($"{process.StartInfo.FileName} exited ({process.ExitCode}) before writing the expected line; its output:\n{Output}");
        }

        return await seen.Task;
    }

    /// <summary>Sends SIGTERM.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Sends SIGKILL (no chance to clean up: a host that dies).</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: false);
        }
    }

    /// <summary>Waits for the exit and returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: false);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(timeout.Token);
        }

        process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource<string>> matched = [];
        lock (gate)
        {
            lines.Enqueue(line);
            for (var i = waiters.Count - 1; i >= 0; i--)
            {
                if (waiters[i].Match(line))
                {
                    matched.Add(waiters[i].Seen);
                    waiters.RemoveAt(i);
                }
            }
        }

        foreach (var seen in matched)
        {
            seen.TrySetResult(line);
        }
    }
}

/// <summary>Free loopback ports and the repository's paths.</summary>
public static class TestEnvironment
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The repository root (the folder holding Sandbox.sln).</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sandbox.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Sandbox.sln not found above the test assembly");
    }

    /// <summary>The built <c>sandbox</c> executable: $SANDBOX_BIN, or this configuration's build output.</summary>
    public static string SandboxExecutable()
    {
        if (Environment.GetEnvironmentVariable("SANDBOX_BIN") is { Length: > 0 } bin && File.Exists(bin))
        {
            return bin;
        }

        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var path = Path.Combine(RepositoryRoot(), "src", "Sandbox.Cli", "bin", configuration, "net10.0", "sandbox");
        return File.Exists(path) ? path : throw new FileNotFoundException($"the sandbox executable is not built at {path}; run `dotnet build Sandbox.sln`");
    }

    /// <summary>The nats-server executable (Debian package nats-server; scripts/setup.sh --all installs it).</summary>
    public static string NatsServer()
    {
        foreach (var candidate in new[] { "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("nats-server is not installed: run scripts/setup.sh --all (or apt-get install nats-server)");
    }

    /// <summary>Bounds a wait by the test's token.</summary>
    public static async Task<T> Within<T>(this Task<T> task, CancellationToken timeout) => await task.WaitAsync(timeout);

    /// <inheritdoc cref="Within{T}(Task{T}, CancellationToken)"/>
    public static async Task Within(this Task task, CancellationToken timeout) => await task.WaitAsync(timeout);
}
