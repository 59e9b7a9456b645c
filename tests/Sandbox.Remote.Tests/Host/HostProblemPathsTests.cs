using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sandbox.Remote.Server;
using Sandbox.Runner.Judging;

namespace Sandbox.Remote.Tests.Host;

/// <summary>A runner host never loads a problem from a path, not even one that looks like an id.</summary>
public sealed class HostProblemPathsTests
{
    [Fact]
    public async Task Host_TurnsTheLibrarysPathFallbackOff_WhateverTheCompositionSaid()
    {
        // The library falls back to a file or folder of the id's name (relative to the working directory) when the id
        // is not in its folders: on a host a client could probe for the host's own files that way, and make it parse them.
        var options = new SandboxHostOptions { Urls = "http://127.0.0.1:0", LogLevel = "warning" };
        await using var app = SandboxHost.Create(options, services => services.AddSandboxJudging(library => library.AllowPaths = true), logToConsole: false);

        Assert.False(app.Services.GetRequiredService<IOptions<ProblemLibraryOptions>>().Value.AllowPaths);
    }
}
