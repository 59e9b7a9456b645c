using StreamJsonRpc;

namespace Sandbox.Remote.Contract;

/// <summary>
/// The <c>error.code</c> of a failed JSON-RPC request to a runner. Outside the -32768..-32000 range that
/// JSON-RPC reserves for itself; documented in docs/runner-host.md. The message always says what to do.
/// </summary>
public enum SandboxErrorCode
{
    /// <summary>The language id is not in the catalog, or its toolchain is not installed on the runner.</summary>
    UnknownLanguage = 1001,

    /// <summary>No problem with that id on the runner.</summary>
    UnknownProblem = 1002,

    /// <summary>The problem exists but its files are malformed (the message names the file and the fault).</summary>
    BadProblem = 1003,

    /// <summary>A requested limit is above the runner's configured maximum.</summary>
    LimitsAboveMaximum = 1004,

    /// <summary>Every slot is busy and the wait queue is full; try again later.</summary>
    HostBusy = 1005,

    /// <summary>The bearer token is missing or wrong (sent as HTTP 401 before the WebSocket opens).</summary>
    Unauthorized = 1006,

    /// <summary>The request is malformed: a missing field, a duplicate run id, a path where an id is expected.</summary>
    InvalidRequest = 1007,

    /// <summary>The runner failed; never the program's fault. Details are in the runner's log under the run id.</summary>
    Internal = 1008,

    /// <summary>The run was cancelled with <c>cancel</c> before it finished.</summary>
    Cancelled = 1009,

    /// <summary>The sandbox cannot run on the runner host (no LXC, not provisioned...); the message names the fix.</summary>
    SandboxUnavailable = 1010,
}

/// <summary>
/// An expected failure of an <see cref="ISandboxRpc"/> call. Thrown by the in-process implementation and,
/// because it is a <see cref="LocalRpcException"/>, sent over the wire as an error with <see cref="Code"/>;
/// the remote client throws it again on the other side.
/// </summary>
public sealed class SandboxRpcException : LocalRpcException
{
    /// <summary>Creates the exception; <paramref name="message"/> is one line a user can act on.</summary>
    public SandboxRpcException(SandboxErrorCode code, string message)
        : base(message)
    {
        Code = code;
        ErrorCode = (int)code;
    }

    /// <summary>What went wrong.</summary>
    public SandboxErrorCode Code { get; }

    /// <summary>Returns the code when <paramref name="errorCode"/> is one of <see cref="SandboxErrorCode"/>, else null.</summary>
    public static SandboxErrorCode? TryParseCode(int errorCode) =>
        Enum.IsDefined(typeof(SandboxErrorCode), errorCode) ? (SandboxErrorCode)errorCode : null;
}
