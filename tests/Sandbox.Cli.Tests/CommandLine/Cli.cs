using System.Diagnostics;
using System.Text;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>What one finished <c>sandbox</c> process left behind.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>Non-empty stderr lines the CLI wrote (the engine's own lxc tools write to its log, never here).</summary>
    public IReadOnlyList<string> StderrLines => CliStderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Stderr as written.</summary>
    public string CliStderr => Stderr;

    /// <summary>Everything, for assertion messages.</summary>
    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalMilliseconds:0} ms\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the real <c>sandbox</c> executable as a child process, with a bounded wait.</summary>
internal static class Cli
{
    /// <summary>Long enough for a compile and a few runs on a busy 2-core machine; a hang fails the test instead of blocking the run.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(90);

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(CliPaths.Executable)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? CliPaths.RepoRoot,
        };
        // A server a test leaves running ends by SIGKILL: without its diagnostic IPC the .NET runtime leaves no
        // clr-debug-pipe-* / dotnet-diagnostic-* files in /tmp behind (it removes them only on a normal exit).
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    /// <summary>Runs <c>sandbox ARGS</c> to completion; <paramref name="stdin"/> is written then closed (closed at once when null).</summary>
    public static Task<CliResult> RunAsync(IEnumerable<string> args, string? stdin = null, string? workingDirectory = null, TimeSpan? timeout = null) =>
        RunCoreAsync(args, stdin is null ? null : Encoding.UTF8.GetBytes(stdin), workingDirectory, timeout);

    /// <summary>Runs <c>sandbox ARGS</c> to completion with these exact bytes as its stdin (any bytes, not only text).</summary>
    public static Task<CliResult> RunWithInputAsync(IEnumerable<string> args, byte[] stdin, string? workingDirectory = null, TimeSpan? timeout = null) =>
        RunCoreAsync(args, stdin, workingDirectory, timeout);

    private static async Task<CliResult> RunCoreAsync(IEnumerable<string> args, byte[]? stdin, string? workingDirectory, TimeSpan? timeout)
    {
        var argList = args.ToList();
        using var process = Process.Start(StartInfo(argList, workingDirectory)) ?? throw new InvalidOperationException("could not start sandbox");
        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.BaseStream.WriteAsync(stdin, deadline.Token);
            }

            process.StandardInput.Close();
            await process.WaitForExitAsync(deadline.Token);
            return new CliResult(process.ExitCode, await stdout, await stderr, clock.Elapsed);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`sandbox {string.Join(' ', argList)}` did not finish within {timeout ?? DefaultTimeout}");
        }
    }

    /// <summary>Runs <c>sandbox ARGS</c> to completion.</summary>
    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(args, stdin: null);

    /// <summary>
    /// Runs <c>sandbox ARGS &gt;STDOUT 2&gt;STDERR</c> through the shell, as a user redirecting to files does (the CLI's
    /// stdout and stderr are then files, not pipes), with <paramref name="stdin"/> as its stdin; returns the exit code.
    /// </summary>
    public static async Task<int> RunToFilesAsync(IEnumerable<string> args, string stdoutFile, string stderrFile, byte[]? stdin = null)
    {
        var info = StartInfo(args);
        info.FileName = "/bin/sh";
        info.ArgumentList.Insert(0, CliPaths.Executable);
        info.ArgumentList.Insert(0, "sh");
        info.ArgumentList.Insert(0, "exec \"$@\" >\"$SANDBOX_TEST_STDOUT\" 2>\"$SANDBOX_TEST_STDERR\"");
        info.ArgumentList.Insert(0, "-c");
        info.Environment["SANDBOX_TEST_STDOUT"] = stdoutFile;
        info.Environment["SANDBOX_TEST_STDERR"] = stderrFile;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start sh");
        using var deadline = new CancellationTokenSource(DefaultTimeout);
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.BaseStream.WriteAsync(stdin, deadline.Token);
            }

            process.StandardInput.Close();
            await process.WaitForExitAsync(deadline.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`sandbox {string.Join(' ', args)}` did not finish within {DefaultTimeout}");
        }
    }

    /// <summary>Ends a <c>sandbox</c> process this test started, with everything it started, if it still runs.</summary>
    public static async Task KillAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
        }
    }

    /// <summary>Sends a signal to a process this test started (there is no managed API for SIGTERM/SIGINT).</summary>
    public static async Task SignalAsync(Process process, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("could not start kill");
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }
}
