namespace Sandbox.Remote.Client;

/// <summary>The runner host cannot be reached, or went away mid-request. The message is one line naming the host.</summary>
public sealed class SandboxConnectionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A runner URL or token file given on the command line is unusable; the CLI exits 2 with the message.</summary>
public sealed class SandboxUsageException(string message) : Exception(message);
