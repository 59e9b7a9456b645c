using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using StreamJsonRpc;

namespace Sandbox.Cli.Commands;

/// <summary>Turns failures into the contract's exit codes with one clear line on stderr.</summary>
internal static class ErrorMapping
{
    /// <summary>Runs a command's action; an exception becomes its exit code and one line on stderr.</summary>
    /// <param name="action">The command's work; returns the exit code.</param>
    /// <param name="logHidden">
    /// True when the embedded runner's errors are kept off stderr (no <c>--verbose</c>): a failure whose details are only
    /// in the runner's log then says how to see them.
    /// </param>
    public static async Task<int> GuardAsync(Func<Task<int>> action, bool logHidden = false)
    {
        try
        {
            return await action();
        }
        catch (OperationCanceledException)
        {
            CliOptions.Error("cancelled");
            return 130;
        }
        catch (Exception e)
        {
            var (code, message) = Classify(e, logHidden);
            CliOptions.Error(message);
            return code;
        }
    }

    /// <summary>The exit code and the line for a failure; see <see cref="GuardAsync"/> for <paramref name="logHidden"/>.</summary>
    public static (int ExitCode, string Message) Classify(Exception e, bool logHidden = false) => e switch
    {
        SandboxRpcException { Code: SandboxErrorCode.Internal } rpc when logHidden => (CliOptions.InternalExit, $"{rpc.Message}; run again with --verbose to see it"),
        SandboxRpcException rpc => (IsUsage(rpc.Code) ? CliOptions.UsageExit : CliOptions.InternalExit, rpc.Message),
        RemoteInvocationException remote when SandboxRpcException.TryParseCode(remote.ErrorCode) is { } code =>
            (IsUsage(code) ? CliOptions.UsageExit : CliOptions.InternalExit, remote.Message),
        SandboxUsageException or UnknownLanguageException or LimitsExceededException or ProblemNotFoundException or ProblemFormatException
            => (CliOptions.UsageExit, e.Message),
        SandboxUnavailableException or SandboxConnectionException => (CliOptions.InternalExit, e.Message),
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException => (CliOptions.UsageExit, e.Message),
        _ => (CliOptions.InternalExit, $"internal error: {e.Message}"),
    };

    private static bool IsUsage(SandboxErrorCode code) => code is SandboxErrorCode.UnknownLanguage or SandboxErrorCode.UnknownProblem
        or SandboxErrorCode.BadProblem or SandboxErrorCode.LimitsAboveMaximum or SandboxErrorCode.InvalidRequest or SandboxErrorCode.Unauthorized;
}
