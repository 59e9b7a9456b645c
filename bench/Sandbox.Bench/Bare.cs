using System.Runtime.InteropServices;
using Sandbox.Runner.Languages;

namespace Sandbox.Bench;

/// <summary>The baseline: posix_spawn + waitpid straight from this process, no sandbox.</summary>
internal static unsafe partial class Bare
{
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int posix_spawn(out int pid, string path, nint fileActions, nint attr, nint* argv, nint* envp);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawn_file_actions_init(nint actions);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int posix_spawn_file_actions_addopen(nint actions, int fd, string path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitpid(int pid, out int status, int options);

    public static void Run(string[] argv)
    {
        var handles = argv.Select(a => Marshal.StringToCoTaskMemUTF8(a)).ToArray();
        var env = new[] { "PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8" }.Select(a => Marshal.StringToCoTaskMemUTF8(a)).ToArray();
        try
        {
            var a = stackalloc nint[handles.Length + 1];
            for (var i = 0; i < handles.Length; i++)
            {
                a[i] = handles[i];
            }

            a[handles.Length] = 0;
            var e = stackalloc nint[env.Length + 1];
            for (var i = 0; i < env.Length; i++)
            {
                e[i] = env[i];
            }

            e[env.Length] = 0;
            // Output goes to /dev/null, as the sandboxed run's goes into a pipe the host drains.
            var actions = stackalloc byte[256];
            posix_spawn_file_actions_init((nint)actions);
            posix_spawn_file_actions_addopen((nint)actions, 1, "/dev/null", 1, 0);
            if (posix_spawn(out var pid, argv[0], (nint)actions, 0, a, e) != 0)
            {
                throw new InvalidOperationException("posix_spawn failed");
            }

            waitpid(pid, out var status, 0);
            if (status != 0)
            {
                throw new InvalidOperationException($"{argv[0]} exited with status {status}");
            }
        }
        finally
        {
            foreach (var h in handles.Concat(env))
            {
                Marshal.FreeCoTaskMem(h);
            }
        }
    }
}

/// <summary>Two benchmark "languages" whose run command is the program itself (the source is empty).</summary>
internal sealed class BenchCatalog : ILanguageCatalog
{
    public IReadOnlyList<LanguageDefinition> All { get; } =
    [
        new() { Id = "true", Name = "/bin/true", SourceFile = "empty", Run = ["/bin/true"], LineComment = "#", Hello = "" },
        new() { Id = "python-print", Name = "python3 -c print(1)", SourceFile = "empty", Run = ["/usr/bin/python3", "-c", "print(1)"], LineComment = "#", Hello = "" },
    ];

    public IReadOnlyList<LanguageDefinition> Available => All;

    public LanguageDefinition? Find(string idOrAlias) => All.FirstOrDefault(l => l.Id == idOrAlias);

    public LanguageDefinition? FindByFileName(string fileName) => null;
}
