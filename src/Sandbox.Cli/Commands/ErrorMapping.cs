using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using StreamJsonRpc;

namespace Sandbox.Cli.Commands;

/// <summary>Turns failures into the contract's exit codes with one clear line on stderr.</summary>
internal static class ErrorMapping
{
    public static async Task<int> GuardAsync(Func<Task<int>> action)
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
            var (code, message) = Classify(e);
            CliOptions.Error(message);
            return code;
        }
    }

    public static (int ExitCode, string Message) Classify(Exception e) => e switch
    {
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
