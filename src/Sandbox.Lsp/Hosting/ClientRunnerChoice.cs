namespace Sandbox.Lsp.Hosting;

/// <summary>Whether a session's client may choose the runner the server connects to (its runner settings).</summary>
public enum ClientRunnerChoice
{
    /// <summary>
    /// The client is the user who started the server (stdio): its <c>runnerUrl</c>, <c>token</c> and <c>tokenFile</c>
    /// settings pick the runner host, as <c>--runner</c> / <c>--token-file</c> would.
    /// </summary>
    Allowed,

    /// <summary>
    /// The client is across a network (WebSocket): the runner is the one the server was started with
    /// (<see cref="LanguageServerOptions.DefaultRunner"/>) and the client's runner settings are ignored with a warning.
    /// Otherwise any page allowed to connect could make the server open connections to hosts of its choosing
    /// (server-side request forgery) and probe the network from the server's machine.
    /// </summary>
    Denied,
}
