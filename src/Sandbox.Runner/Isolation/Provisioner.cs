using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Isolation;

/// <summary>
/// What provisioning produced: the shared read-only root file system and the profile files, and the leases that keep
/// another provisioner from removing them (<see cref="ProvisionedFiles"/>) until <see cref="InUse"/> is disposed.
/// </summary>
internal sealed record ProvisionedImage(string RootFs, string SeccompProfile, string ConfigTemplate, CgroupDriver Cgroups, IDisposable InUse);

/// <summary>
/// Makes this machine able to run sandboxes, idempotently: checks root and LXC, the subordinate id range,
/// installs missing toolchains, builds the root file system (an empty folder with mount points, a minimal
/// /etc and the agent) and copies the checked-in profiles. Every failure is one line that names the fix.
/// </summary>
internal sealed class Provisioner(SandboxOptions options, ILanguageCatalog languages, ILogger logger)
{
    // Bump when the root file system recipe changes; the agent source hash is part of the stamp too.
    private const string RecipeVersion = "1";

    private static readonly string[] EtcCopies =
    [
        "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "java-17-openjdk", "java-21-openjdk",
        "php", "perl", "python3", "python3.11", "ssl/openssl.cnf", "mime.types", "localtime",
    ];

    public ProvisionedImage Provision(IProgress<string>? progress)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new SandboxUnavailableException("the sandbox needs Linux with LXC; on this OS use a remote runner (--runner ws://HOST:7070/rpc)");
        }

        if (Native.geteuid() != 0)
        {
            throw new SandboxUnavailableException("the embedded sandbox must run as root to create its containers: run with sudo, or use a remote runner (--runner)");
        }

        if (!File.Exists("/usr/bin/lxc-start"))
        {
            throw new SandboxUnavailableException("LXC is not installed: run `apt-get install -y lxc` (or ./sandbox, which installs it)");
        }

        var deploy = options.DeployDirectory;
        var agentSource = Path.Combine(deploy, "agent", "sandbox-agent.c");
        var agentHeader = Path.Combine(deploy, "agent", "protocol.h");
        var seccomp = Path.Combine(deploy, "seccomp", "sandbox.seccomp");
        var template = Path.Combine(deploy, "lxc", "sandbox.conf.template");
        foreach (var file in new[] { agentSource, agentHeader, seccomp, template })
        {
            if (!File.Exists(file))
            {
                throw new SandboxUnavailableException($"deploy file missing: {file} (reinstall or rebuild Sandbox)");
            }
        }

        var cgroups = CgroupDriver.Detect(options.CgroupRoot);
        Directory.CreateDirectory(options.StateDirectory);
        Directory.CreateDirectory(options.RuntimeDirectory);

        // One provisioner at a time on this machine (several CLIs may start together).
        using var lockFile = AcquireLock(Path.Combine(options.StateDirectory, "provision.lock"));

        EnsureSubordinateIds("/etc/subuid");
        EnsureSubordinateIds("/etc/subgid");
        InstallToolchains(progress);

        // Each recipe gets its own root, never changed once built: runners of another version on this machine
        // keep using theirs while this one is built.
        var stamp = ComputeStamp(agentSource, agentHeader);
        var rootfs = Path.Combine(options.StateDirectory, "rootfs-" + stamp[..16].ToLowerInvariant());
        if (!Directory.Exists(rootfs))
        {
            progress?.Report("Building the sandbox root file system...");
            BuildRootFs(rootfs, agentSource);
        }

        // The profile LXC reads lives in root-owned state, never in a folder a user can edit.
        // Named by content, so a runner of another version never sees its profile change under it.
        var profile = File.ReadAllBytes(seccomp);
        var seccompCopy = Path.Combine(options.StateDirectory, $"sandbox-{Convert.ToHexStringLower(SHA256.HashData(profile))[..16]}.seccomp");
        if (!File.Exists(seccompCopy))
        {
            var temporary = seccompCopy + "." + Environment.ProcessId;
            File.WriteAllBytes(temporary, profile);
            File.Move(temporary, seccompCopy, overwrite: true);
        }

        // Ours are leased before anything is removed; older roots and profiles go once no runner holds them.
        var inUse = ProvisionedFiles.Lease([rootfs, seccompCopy]);
        try
        {
            ProvisionedFiles.RemoveUnused(options.StateDirectory, options.RuntimeDirectory, [rootfs, seccompCopy], logger);
            return new ProvisionedImage(rootfs, seccompCopy, File.ReadAllText(template), cgroups, inUse);
        }
        catch
        {
            inUse.Dispose();
            throw;
        }
    }

    internal static FileStream AcquireLock(string path)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None takes an flock on Linux: released by the kernel if this process dies.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (deadline.Elapsed < TimeSpan.FromMinutes(10))
            {
                Thread.Sleep(50);
            }
        }
    }

    private void EnsureSubordinateIds(string file)
    {
        // LXC (with the uidmap package present) checks that root owns the range it maps. Add, never clobber.
        var needed = (long)options.Slots * 65536;
        var lines = File.Exists(file) ? File.ReadAllLines(file).ToList() : [];
        foreach (var line in lines)
        {
            var parts = line.Split(':');
            if (parts.Length == 3 && parts[0] == "root" && long.TryParse(parts[1], out var start) && long.TryParse(parts[2], out var count)
                && start <= options.IdMapBase && start + count >= options.IdMapBase + needed)
            {
                return;
            }
        }

        var entry = $"root:{options.IdMapBase}:{Math.Max(needed, 65536L * 64)}";
        logger.LogInformation("Adding {Entry} to {File}", entry, file);
        File.AppendAllText(file, (lines.Count > 0 && !File.ReadAllText(file).EndsWith('\n') ? "\n" : "") + entry + "\n");
    }

    private void InstallToolchains(IProgress<string>? progress)
    {
        var missing = languages.All
            .Where(l => l.Requires.Any(r => !File.Exists(r)))
            .SelectMany(l => l.Packages)
            .ToList();
        if (!File.Exists("/usr/bin/gcc") || !File.Exists("/usr/lib/x86_64-linux-gnu/libc.a"))
        {
            // The agent is compiled here, statically.
            missing.AddRange(["gcc", "libc6-dev"]);
        }

        missing = [.. missing.Distinct(StringComparer.Ordinal)];
        if (missing.Count == 0)
        {
            return;
        }

        if (!options.InstallMissingToolchains)
        {
            logger.LogWarning("Toolchains missing and installation disabled: {Packages}", string.Join(' ', missing));
            return;
        }

        progress?.Report($"Installing toolchains with apt-get: {string.Join(' ', missing)} (first run only)...");
        var update = RunTool("apt-get", ["update", "-qq"], TimeSpan.FromMinutes(10), throwOnFailure: false);
        if (update != 0)
        {
            logger.LogWarning("apt-get update exited with {Code}", update);
        }

        var code = RunTool("apt-get", ["install", "-y", "-qq", "--no-install-recommends", .. missing], TimeSpan.FromMinutes(30), throwOnFailure: false, environment: new() { ["DEBIAN_FRONTEND"] = "noninteractive" });
        if (code != 0)
        {
            logger.LogWarning("apt-get install {Packages} exited with {Code}; languages without a toolchain are not offered", string.Join(' ', missing), code);
        }
    }

    private string ComputeStamp(string agentSource, string agentHeader)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(RecipeVersion + "\n" + File.ReadAllText(agentSource) + File.ReadAllText(agentHeader) + options.RunUid));
        return Convert.ToHexString(hash);
    }

    private void BuildRootFs(string rootfs, string agentSource)
    {
        // Build beside, then swap: a half-built root is never used, and running containers keep the old one open.
        var staging = rootfs + "." + Environment.ProcessId + ".new";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        Directory.CreateDirectory(staging);
        foreach (var dir in new[] { "usr", "etc", "proc", "sys", "dev", "box", "sandbox/ctl", "run", "var", "home" })
        {
            Directory.CreateDirectory(Path.Combine(staging, dir));
        }

        foreach (var (link, target) in new[] { ("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64"), ("sbin", "usr/sbin"), ("tmp", "box/tmp"), ("work", "box/work") })
        {
            File.CreateSymbolicLink(Path.Combine(staging, link), target);
        }

        var uid = options.RunUid;
        var etc = Path.Combine(staging, "etc");
        File.WriteAllText(Path.Combine(etc, "passwd"), $"root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:{uid}:{uid}:sandbox:/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
        File.WriteAllText(Path.Combine(etc, "group"), $"root:x:0:\nsandbox:x:{uid}:\nnogroup:x:65534:\n");
        File.WriteAllText(Path.Combine(etc, "hosts"), "127.0.0.1 localhost sandbox\n::1 localhost\n");
        File.WriteAllText(Path.Combine(etc, "hostname"), "sandbox\n");
        File.WriteAllText(Path.Combine(etc, "nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files\n");
        foreach (var name in EtcCopies)
        {
            var source = Path.Combine("/etc", name);
            var target = Path.Combine(etc, name);
            if (File.Exists(source) || Directory.Exists(source))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                RunTool("cp", ["-a", "--", source, target], TimeSpan.FromMinutes(1), throwOnFailure: true);
            }
        }

        var agentDir = Path.Combine(staging, "sandbox");
        var code = RunTool("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-static", "-o", Path.Combine(agentDir, "agent"), agentSource], TimeSpan.FromMinutes(2), throwOnFailure: false);
        if (code != 0)
        {
            throw new SandboxUnavailableException("cannot compile the sandbox agent: install gcc and libc6-dev (`apt-get install -y gcc libc6-dev`)");
        }

        File.SetUnixFileMode(Path.Combine(agentDir, "agent"), UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        Directory.Move(staging, rootfs);
    }

    internal int RunTool(string file, IReadOnlyList<string> args, TimeSpan timeout, bool throwOnFailure, Dictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment ?? [])
        {
            psi.Environment[k] = v;
        }

        using var process = Process.Start(psi) ?? throw new SandboxUnavailableException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new SandboxUnavailableException($"{file} {string.Join(' ', args)} did not finish within {timeout}");
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
#pragma warning disable VSTHRD002 // the process has exited: the reads are complete
            logger.LogWarning("{Tool} {Args} exited with {Code}: {Stderr}", file, string.Join(' ', args), process.ExitCode, (stderr.Result + stdout.Result).Trim());
#pragma warning restore VSTHRD002
            if (throwOnFailure)
            {
                throw new SandboxUnavailableException($"{file} {string.Join(' ', args)} failed with exit code {process.ExitCode}");
            }
        }

        return process.ExitCode;
    }
}
