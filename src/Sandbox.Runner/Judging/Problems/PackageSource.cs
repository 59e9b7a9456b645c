using System.IO.Compression;
using Sandbox.Runner.Files;

namespace Sandbox.Runner.Judging.Problems;

/// <summary>
/// The regular files of a problem package (a folder or a .zip), by path relative to the package root with
/// <c>/</c> separators. Links are resolved when they stay inside the package and refused when they do not.
/// </summary>
internal sealed class PackageSource
{
    private readonly Dictionary<string, TestData> _files;

    private PackageSource(string location, string defaultId, Dictionary<string, TestData> files)
    {
        Location = location;
        DefaultId = defaultId;
        _files = files;
    }

    /// <summary>The folder or zip path, for messages.</summary>
    public string Location { get; }

    /// <summary>The package's short name: the folder name, or the zip's base name.</summary>
    public string DefaultId { get; }

    /// <summary>All regular files, by relative path.</summary>
    public IReadOnlyDictionary<string, TestData> Files => _files;

    /// <summary>A file by relative path, or null.</summary>
    public TestData? Find(string relativePath) => _files.GetValueOrDefault(relativePath);

    /// <summary>True when some file lies under <paramref name="folder"/> (relative, no trailing slash).</summary>
    public bool HasFolder(string folder) => _files.Keys.Any(k => k.StartsWith(folder + "/", StringComparison.Ordinal));

    /// <summary>Top-level folders that are never read when judging (their content is not checked).</summary>
    private static readonly string[] s_skippedFolders = ["submissions"];

    /// <summary>Indexes a package folder. Fails on links that leave the package and on linked folders.</summary>
    public static PackageSource FromFolder(string folder)
    {
        var root = new DirectoryInfo(Path.GetFullPath(folder));
        string rootPath = root.FullName.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var files = new Dictionary<string, TestData>(StringComparer.Ordinal);
        var pending = new Stack<DirectoryInfo>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var directory = pending.Pop();
            foreach (var entry in directory.EnumerateFileSystemInfos())
            {
                string relative = Path.GetRelativePath(root.FullName, entry.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (entry.LinkTarget is not null)
                {
                    if (entry is DirectoryInfo)
                    {
                        throw new ProblemFormatException(Path.Combine(folder, relative), "linked folders are not supported in a problem package");
                    }

                    var target = entry.ResolveLinkTarget(returnFinalTarget: true);
                    if (target is null || !target.FullName.StartsWith(rootPath, StringComparison.Ordinal))
                    {
                        throw new ProblemFormatException(Path.Combine(folder, relative), "link points outside the problem package");
                    }

                    if (target is not FileInfo { Exists: true } targetFile || !IsRegularFile(targetFile.FullName))
                    {
                        throw new ProblemFormatException(Path.Combine(folder, relative), "link does not point to a regular file of the package");
                    }

                    files[relative] = new FileData(targetFile.FullName, Path.Combine(folder, relative));
                }
                else if (entry is DirectoryInfo subfolder)
                {
                    if (directory == root && s_skippedFolders.Contains(subfolder.Name))
                    {
                        continue;
                    }

                    pending.Push(subfolder);
                }
                else if (entry is FileInfo)
                {
                    // Reading a fifo would wait for a writer forever, a device could be endless: as in a zip, only
                    // regular files make a package.
                    if (!IsRegularFile(entry.FullName))
                    {
                        throw new ProblemFormatException(Path.Combine(folder, relative), "not a regular file (devices, fifos and the like are refused)");
                    }

                    files[relative] = new FileData(entry.FullName, Path.Combine(folder, relative));
                }
            }
        }

        return new PackageSource(folder, root.Name, files);
    }

    /// <summary>
    /// Indexes a zipped package, reading nothing but the zip's directory (and the targets of link entries).
    /// The package is either at the zip's root or in one top-level folder. Entries with absolute paths,
    /// <c>..</c> or <c>.</c> segments, backslashes or duplicate names are refused, and so are links leaving the package.
    /// </summary>
    public static PackageSource FromZip(string zipPath, int maxEntries = 100_000)
    {
        string id = Path.GetFileNameWithoutExtension(zipPath);
        ZipArchive archive;
        try
        {
            archive = ZipFile.OpenRead(zipPath);
        }
        catch (InvalidDataException ex)
        {
            throw new ProblemFormatException(zipPath, $"not a valid zip file ({ex.Message})");
        }

        using (archive)
        {
            if (archive.Entries.Count > maxEntries)
            {
                throw new ProblemFormatException(zipPath, $"more than {maxEntries} entries");
            }

            var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            foreach (var entry in archive.Entries)
            {
                string name = entry.FullName;
                CheckEntryName(zipPath, name);
                if (name.EndsWith('/'))
                {
                    continue;
                }

                if (!entries.TryAdd(name, entry))
                {
                    throw new ProblemFormatException($"{zipPath}!{name}", "duplicate entry in the zip");
                }
            }

            string prefix = FindRoot(zipPath, entries.Keys);
            var files = new Dictionary<string, TestData>(StringComparer.Ordinal);
            foreach (var (name, entry) in entries)
            {
                if (!name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                string relative = name[prefix.Length..];
                string location = $"{zipPath}!{name}";
                int unixType = (entry.ExternalAttributes >> 16) & 0xF000;
                if (unixType == 0xA000)
                {
                    string target = ResolveZipLink(zipPath, entry, relative);
                    if (!entries.TryGetValue(prefix + target, out var targetEntry) || ((targetEntry.ExternalAttributes >> 16) & 0xF000) == 0xA000)
                    {
                        throw new ProblemFormatException(location, "link does not point to a regular file of the package");
                    }

                    files[relative] = new ZipData(zipPath, prefix + target, location, targetEntry.Length);
                }
                else if (unixType is 0 or 0x8000)
                {
                    files[relative] = new ZipData(zipPath, name, location, entry.Length);
                }
                else
                {
                    throw new ProblemFormatException(location, "not a regular file (devices, fifos and the like are refused)");
                }
            }

            return new PackageSource(zipPath, id, files);
        }
    }

    /// <summary>True when <paramref name="path"/> itself (not a link's target) is a regular file.</summary>
    private static bool IsRegularFile(string path) => FileKinds.Of(path, followLinks: false) == FileKind.Regular;

    private static void CheckEntryName(string zipPath, string name)
    {
        string location = $"{zipPath}!{name}";
        if (name.Length == 0 || name.StartsWith('/') || name.Contains('\\') || name.Contains('\0') || name.Contains(':'))
        {
            throw new ProblemFormatException(location, "unsafe entry name in the zip (absolute, backslash, drive or NUL)");
        }

        var segments = name.TrimEnd('/').Split('/');
        if (segments.Any(s => s is "" or "." or ".."))
        {
            throw new ProblemFormatException(location, "unsafe entry name in the zip ('..', '.' or empty path segment)");
        }
    }

    private static string FindRoot(string zipPath, IEnumerable<string> names)
    {
        var all = names.ToList();
        if (all.Contains("problem.yaml"))
        {
            return "";
        }

        var tops = all.Select(n => n.Split('/')[0]).Distinct(StringComparer.Ordinal).ToList();
        var candidates = tops.Where(t => all.Contains(t + "/problem.yaml")).ToList();
        return candidates.Count switch
        {
            1 => candidates[0] + "/",
            0 => throw new ProblemFormatException(zipPath, "no problem.yaml at the zip's root or in its top-level folder"),
            _ => throw new ProblemFormatException(zipPath, "more than one problem.yaml among the zip's top-level folders"),
        };
    }

    /// <summary>Resolves a link entry's target (its content) relative to the link's folder; null-free or a fault.</summary>
    private static string ResolveZipLink(string zipPath, ZipArchiveEntry entry, string relative)
    {
        string location = $"{zipPath}!{entry.FullName}";
        if (entry.Length > 4096)
        {
            throw new ProblemFormatException(location, "link target too long");
        }

        string target;
        try
        {
            using var stream = entry.Open();
            using var reader = new StreamReader(stream);
            target = reader.ReadToEnd();
        }
        catch (InvalidDataException ex)
        {
            throw ZipData.Damaged(location, ex);
        }

        if (target.StartsWith('/') || target.Contains('\\') || target.Contains('\0'))
        {
            throw new ProblemFormatException(location, "link points outside the problem package");
        }

        var parts = new List<string>(relative.Split('/')[..^1]);
        foreach (string segment in target.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (parts.Count == 0)
                {
                    throw new ProblemFormatException(location, "link points outside the problem package");
                }

                parts.RemoveAt(parts.Count - 1);
            }
            else
            {
                parts.Add(segment);
            }
        }

        return string.Join('/', parts);
    }

    /// <summary>A file of a package folder, read when needed.</summary>
    private sealed class FileData(string fullPath, string location) : TestData
    {
        public override string Location => location;

        public override long Length => new FileInfo(fullPath).Length;

        public override async Task<byte[]> ReadAsync(long maxBytes, CancellationToken cancellationToken)
        {
            await using var stream = Open(maxBytes);
            return await ReadBoundedAsync(stream, location, maxBytes, cancellationToken);
        }

        public override byte[] Read(long maxBytes)
        {
            using var stream = Open(maxBytes);
            return ReadBounded(stream, location, maxBytes);
        }

        private FileStream Open(long maxBytes)
        {
            var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
            if (stream.Length > maxBytes)
            {
                stream.Dispose();
                throw TooLarge(location, maxBytes);
            }

            return stream;
        }
    }

    /// <summary>
    /// An entry of a zipped package. Each read opens the zip anew so that tests running in parallel never
    /// share a <see cref="ZipArchive"/> (it is not thread-safe); nothing is ever extracted to disk.
    /// </summary>
    private sealed class ZipData(string zipPath, string entryName, string location, long declaredLength) : TestData
    {
        public override string Location => location;

        public override long Length => declaredLength;

        public override async Task<byte[]> ReadAsync(long maxBytes, CancellationToken cancellationToken)
        {
            if (declaredLength > maxBytes)
            {
                throw TooLarge(location, maxBytes);
            }

            await using var file = new FileStream(zipPath, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true);
            await using var archive = await ZipArchive.CreateAsync(file, ZipArchiveMode.Read, leaveOpen: false, entryNameEncoding: null, cancellationToken);
            var entry = archive.GetEntry(entryName) ?? throw new ProblemFormatException(location, "entry vanished from the zip");
            try
            {
                await using var stream = await entry.OpenAsync(cancellationToken);
                return await ReadBoundedAsync(stream, location, maxBytes, cancellationToken);
            }
            catch (InvalidDataException ex)
            {
                throw Damaged(location, ex);
            }
        }

        public override byte[] Read(long maxBytes)
        {
            if (declaredLength > maxBytes)
            {
                throw TooLarge(location, maxBytes);
            }

            using var archive = ZipFile.OpenRead(zipPath);
            var entry = archive.GetEntry(entryName) ?? throw new ProblemFormatException(location, "entry vanished from the zip");
            try
            {
                using var stream = entry.Open();
                return ReadBounded(stream, location, maxBytes);
            }
            catch (InvalidDataException ex)
            {
                throw Damaged(location, ex);
            }
        }

        /// <summary>An entry whose compressed data or checksum is wrong: the package's fault, said in one line.</summary>
        public static ProblemFormatException Damaged(string location, InvalidDataException ex) =>
            new(location, $"damaged zip entry ({ex.Message.TrimEnd('.')})");
    }
}
