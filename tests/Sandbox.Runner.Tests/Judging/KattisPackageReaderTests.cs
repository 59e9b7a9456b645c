using System.IO.Compression;
using System.Text;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Judging.Problems;

namespace Sandbox.Runner.Tests.Judging;

public sealed class KattisPackageReaderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static Dictionary<string, string> BasicPackage() => new()
    {
        ["problem.yaml"] = "name: Demo\nlimits:\n  memory: 128\n  time_multiplier: 3\nvalidator_flags: float_tolerance 1e-3\n",
        [".timelimit"] = "1.5\n",
        ["problem_statement/problem.en.tex"] = "\\problemname{Demo Problem}\n% a comment\nAdd.\n\\section*{Input}\nTwo numbers.\n",
        ["data/sample/1.in"] = "1 2\n",
        ["data/sample/1.ans"] = "3\n",
        ["data/secret/b-group/01.in"] = "5 5\n",
        ["data/secret/b-group/01.ans"] = "10\n",
        ["data/secret/b-group/testdata.yaml"] = "output_validator_flags: case_sensitive\n",
        ["data/secret/a.in"] = "0 0\n",
        ["data/secret/a.ans"] = "0\n",
        ["data/secret/c.in"] = "1 1\n",
        ["data/secret/c.ans"] = "2\n",
        ["data/secret/c.hint"] = "think\n",
        ["submissions/accepted/x.py"] = "print(1)\n",
    };

    private string WriteFolder(Dictionary<string, string> files, string name = "demo")
    {
        string root = Path.Combine(_temp.Path, name);
        foreach (var (path, content) in files)
        {
            _temp.Write(Path.Combine(name, path), content);
        }

        return root;
    }

    private string WriteZip(Dictionary<string, string> files, string prefix = "", string name = "demo.zip", Action<ZipArchive>? extra = null)
    {
        string path = Path.Combine(_temp.Path, name);
        using var archive = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (file, content) in files)
        {
            var entry = archive.CreateEntry(prefix + file);
            using var writer = new StreamWriter(entry.Open());
            writer.Write(content);
        }

        extra?.Invoke(archive);
        return path;
    }

    private static void AddLink(ZipArchive archive, string name, string target)
    {
        var entry = archive.CreateEntry(name);
        entry.ExternalAttributes = unchecked((int)(0xA1FFu << 16)); // S_IFLNK | 0777
        using var writer = new StreamWriter(entry.Open());
        writer.Write(target);
    }

    private static LoadedProblem Read(PackageSource source, ProblemLibraryOptions? options = null) =>
        KattisPackageReader.Read(source, options ?? new ProblemLibraryOptions(), new FakeLanguageCatalog());

    private static ProblemFormatException Fails(Func<object> read, string fault)
    {
        var ex = Assert.Throws<ProblemFormatException>(() => read());
        Assert.Contains(fault, ex.Fault);
        return ex;
    }

    [Fact]
    public void Read_Folder_ReadsMetadataLimitsAndTestsInSpecOrder()
    {
        var problem = Read(PackageSource.FromFolder(WriteFolder(BasicPackage())));

        Assert.Equal("demo", problem.Id);
        Assert.Equal("Demo", problem.Title);
        Assert.Equal(1.5, problem.TimeLimitSeconds);
        Assert.Equal(128, problem.MemoryLimitMb);
        Assert.Contains("# Demo Problem", problem.StatementMarkdown);
        Assert.Contains("## Input", problem.StatementMarkdown);
        Assert.DoesNotContain("a comment", problem.StatementMarkdown);
        // Cases and groups in one lexicographic order: a, b-group/, c.
        Assert.Equal(["sample/1", "secret/a", "secret/b-group/01", "secret/c"], problem.Tests.Select(t => t.Name));
        Assert.Equal([true, false, false, false], problem.Tests.Select(t => t.Sample));
    }

    [Fact]
    public void Read_GroupFlags_AreAddedToTheProblemFlags()
    {
        var problem = Read(PackageSource.FromFolder(WriteFolder(BasicPackage())));

        var plain = problem.Tests.Single(t => t.Name == "secret/a").Validator;
        var grouped = problem.Tests.Single(t => t.Name == "secret/b-group/01").Validator;
        Assert.Equal(new ValidatorOptions { FloatAbsoluteTolerance = 1e-3, FloatRelativeTolerance = 1e-3 }, plain);
        Assert.Equal(plain with { CaseSensitive = true }, grouped);
    }

    [Fact]
    public void Read_NoTimelimitFile_UsesTheConfiguredDefault()
    {
        var files = BasicPackage();
        files.Remove(".timelimit");
        var problem = Read(PackageSource.FromFolder(WriteFolder(files)), new ProblemLibraryOptions { DefaultTimeLimitSeconds = 3 });
        Assert.Equal(3, problem.TimeLimitSeconds);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("demo/", "")]
    public async Task Read_Zip_AtRootOrInOneFolder_MatchesTheFolder(string prefix, string unused)
    {
        _ = unused;
        var files = BasicPackage();
        var fromFolder = Read(PackageSource.FromFolder(WriteFolder(files)));
        var fromZip = Read(PackageSource.FromZip(WriteZip(files, prefix)));

        Assert.Equal(fromFolder.Id, fromZip.Id);
        Assert.Equal(fromFolder.TimeLimitSeconds, fromZip.TimeLimitSeconds);
        Assert.Equal(fromFolder.Tests.Select(t => (t.Name, t.Sample, t.Validator)), fromZip.Tests.Select(t => (t.Name, t.Sample, t.Validator)));
        for (int i = 0; i < fromFolder.Tests.Count; i++)
        {
            Assert.Equal(await fromFolder.Tests[i].Answer.ReadAsync(1000, CancellationToken.None), await fromZip.Tests[i].Answer.ReadAsync(1000, CancellationToken.None));
        }
    }

    [Fact]
    public void Read_CustomValidator_FindsItsSingleSourceFile()
    {
        var files = BasicPackage();
        files["problem.yaml"] = "validation: custom\nvalidator_flags: strict 2\n";
        files["output_validators/checker/check.py"] = "import sys\nsys.exit(42)\n";
        files["output_validators/checker/README.md"] = "docs\n";

        var problem = Read(PackageSource.FromFolder(WriteFolder(files)));

        Assert.Equal(new CustomValidatorSource("python", "check.py", "import sys\nsys.exit(42)\n"), problem.CustomValidator);
        Assert.Equal(["strict", "2"], problem.Tests.Single(t => t.Name == "secret/a").ValidatorFlags);
        Assert.Equal(["strict", "2", "case_sensitive"], problem.Tests.Single(t => t.Name == "secret/b-group/01").ValidatorFlags);
    }

    public static TheoryData<string, string, string> Refusals => new()
    {
        { "problem.yaml", "type: scoring\n", "scoring problems are not supported" },
        { "problem.yaml", "validation: custom interactive\n", "interactive problems are not supported" },
        { "problem.yaml", "validation: custom score\n", "scoring validators are not supported" },
        { "problem.yaml", "validation: fancy\n", "'validation' must be" },
        { "problem.yaml", "name: X\nshoe_size: 42\n", "unknown key 'shoe_size'" },
        { "problem.yaml", "limits:\n  time_limit: 2\n", "unknown key 'time_limit'" },
        { "problem.yaml", "limits:\n  memory: lots\n", "'limits.memory' must be a number" },
        { "problem.yaml", "problem_format_version: 2023-07-draft\n", "not supported" },
        { "problem.yaml", "validator_flags: ignore_case\n", "unknown default validator flag 'ignore_case'" },
        { "problem.yaml", "name: [unclosed\n", "invalid YAML" },
        { "problem.yaml", "validation: custom\n", "no validator in output_validators/" },
        { ".timelimit", "soon\n", "time limit in seconds" },
        { "data/secret/testdata.yaml", "grading: custom\n", "custom grading is not supported" },
        { "data/secret/testdata.yaml", "accept_score: 2\n", "only for scoring problems" },
        { "data/secret/testdata.yaml", "grader_flags: accept_if_any_accepted\n", "not supported" },
        { "data/secret/orphan.ans", "1\n", "answer file with no input" },
        { "data/secret/x.interaction", "> 1\n", "interactive" },
        { "data/extra/1.in", "1\n", "only data/sample and data/secret" },
        { "include/python/lib.py", "x = 1\n", "include/" },
        { "graders/g.py", "x = 1\n", "custom graders" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Read_UnsupportedOrMalformed_IsRefusedWithTheFileAndFault(string file, string content, string fault)
    {
        var files = BasicPackage();
        files[file] = content;
        var ex = Fails(() => Read(PackageSource.FromFolder(WriteFolder(files))), fault);
        Assert.StartsWith(Path.Combine(_temp.Path, "demo"), ex.File);
    }

    [Fact]
    public void Read_TestWithoutAnswer_IsRefusedNamingTheTest()
    {
        var files = BasicPackage();
        files.Remove("data/secret/c.ans");
        var ex = Fails(() => Read(PackageSource.FromFolder(WriteFolder(files))), "no answer file");
        Assert.EndsWith("c.in", ex.File);
    }

    [Fact]
    public void Read_NoSecretTests_IsRefused()
    {
        var files = BasicPackage().Where(f => !f.Key.StartsWith("data/secret", StringComparison.Ordinal)).ToDictionary();
        Fails(() => Read(PackageSource.FromFolder(WriteFolder(files))), "no secret test cases");
    }

    [Fact]
    public void Read_MultiFileValidator_IsRefused()
    {
        var files = BasicPackage();
        files["problem.yaml"] = "validation: custom\n";
        files["output_validators/v/validate.cpp"] = "#include \"validate.h\"\n";
        files["output_validators/v/validate.h"] = "\n";
        Fails(() => Read(PackageSource.FromFolder(WriteFolder(files))), "only single-file validators");
    }

    [Fact]
    public void Read_ValidatorWithBuildScript_IsRefused()
    {
        var files = BasicPackage();
        files["problem.yaml"] = "validation: custom\n";
        files["output_validators/v/build"] = "#!/bin/sh\n";
        files["output_validators/v/run"] = "#!/bin/sh\n";
        Fails(() => Read(PackageSource.FromFolder(WriteFolder(files))), "build/run scripts");
    }

    [Fact]
    public void Read_ValidatorInUnknownLanguage_IsRefused()
    {
        var files = BasicPackage();
        files["problem.yaml"] = "validation: custom\n";
        files["output_validators/check.cob"] = "IDENTIFICATION DIVISION.\n";
        Fails(() => Read(PackageSource.FromFolder(WriteFolder(files))), "language is not one this runner offers");
    }

    [Fact]
    public void Read_Python2Validator_IsRefused()
    {
        var files = BasicPackage();
        files["problem.yaml"] = "validation: custom\n";
        files["output_validators/check.py"] = "#!/usr/bin/env python2\nprint 'x'\n";
        Fails(() => Read(PackageSource.FromFolder(WriteFolder(files))), "Python 2");
    }

    [Fact]
    public void Read_TwoGigabyteAnswer_IsRefusedWithoutReadingIt()
    {
        string root = WriteFolder(BasicPackage());
        using (var stream = File.OpenWrite(Path.Combine(root, "data/secret/c.ans")))
        {
            stream.SetLength(2L * 1024 * 1024 * 1024); // sparse file: reading it would take seconds and 2 GB
        }

        var started = DateTime.UtcNow;
        var ex = Fails(() => Read(PackageSource.FromFolder(root)), "limit for test files");
        Assert.EndsWith("c.ans", ex.File);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Read_FolderLinkOutsideThePackage_IsRefused()
    {
        string root = WriteFolder(BasicPackage());
        string outside = _temp.Write("outside.txt", "host secret\n");
        File.Delete(Path.Combine(root, "data/secret/c.ans"));
        File.CreateSymbolicLink(Path.Combine(root, "data/secret/c.ans"), outside);

        Fails(() => Read(PackageSource.FromFolder(root)), "link points outside the problem package");
    }

    [Fact]
    public void Read_FolderRelativeLinkEscaping_IsRefused()
    {
        string root = WriteFolder(BasicPackage());
        _temp.Write("outside.txt", "host secret\n");
        File.Delete(Path.Combine(root, "data/secret/c.ans"));
        File.CreateSymbolicLink(Path.Combine(root, "data/secret/c.ans"), "../../../outside.txt");

        Fails(() => Read(PackageSource.FromFolder(root)), "link points outside the problem package");
    }

    [Fact]
    public void Read_FolderLinkToAFolder_IsRefused()
    {
        string root = WriteFolder(BasicPackage());
        Directory.CreateSymbolicLink(Path.Combine(root, "data/secret/loop"), "/etc");

        Fails(() => Read(PackageSource.FromFolder(root)), "linked folders");
    }

    [Fact]
    public async Task Read_FolderLinkInsideThePackage_IsFollowed()
    {
        string root = WriteFolder(BasicPackage());
        File.Delete(Path.Combine(root, "data/secret/c.ans"));
        File.CreateSymbolicLink(Path.Combine(root, "data/secret/c.ans"), "../sample/1.ans");

        var problem = Read(PackageSource.FromFolder(root));
        var answer = await problem.Tests.Single(t => t.Name == "secret/c").Answer.ReadAsync(100, CancellationToken.None);
        Assert.Equal("3\n", Encoding.UTF8.GetString(answer));
    }

    [Theory]
    [InlineData("../evil.ans")]
    [InlineData("demo/../../evil.ans")]
    [InlineData("/etc/passwd")]
    [InlineData("data\\..\\..\\evil.ans")]
    [InlineData("C:/windows/evil")]
    [InlineData("data/./sample/x.in")]
    public void FromZip_UnsafeEntryName_IsRefused(string entryName)
    {
        string zip = WriteZip(BasicPackage(), extra: archive => archive.CreateEntry(entryName));
        Fails(() => PackageSource.FromZip(zip), "unsafe entry name");
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("../../../../etc/passwd")]
    [InlineData("../../../outside")]
    public void FromZip_LinkEntryPointingOutside_IsRefused(string target)
    {
        var files = BasicPackage();
        files.Remove("data/secret/c.ans");
        string zip = WriteZip(files, extra: archive => AddLink(archive, "data/secret/c.ans", target));
        Fails(() => PackageSource.FromZip(zip), "link points outside the problem package");
    }

    [Fact]
    public async Task FromZip_LinkEntryInsideThePackage_IsFollowedWithoutExtracting()
    {
        var files = BasicPackage();
        files.Remove("data/secret/c.ans");
        string zip = WriteZip(files, extra: archive => AddLink(archive, "data/secret/c.ans", "../sample/1.ans"));

        var problem = Read(PackageSource.FromZip(zip));
        var answer = await problem.Tests.Single(t => t.Name == "secret/c").Answer.ReadAsync(100, CancellationToken.None);
        Assert.Equal("3\n", Encoding.UTF8.GetString(answer));
    }

    [Fact]
    public void FromZip_DuplicateEntries_AreRefused()
    {
        string zip = WriteZip(BasicPackage(), extra: archive =>
        {
            using var writer = new StreamWriter(archive.CreateEntry("data/secret/c.ans").Open());
            writer.Write("99\n");
        });
        Fails(() => PackageSource.FromZip(zip), "duplicate entry");
    }

    [Fact]
    public void FromZip_NotAZip_IsRefused()
    {
        string path = _temp.Write("broken.zip", "this is not a zip file");
        Fails(() => PackageSource.FromZip(path), "not a valid zip file");
    }

    [Fact]
    public void FromZip_NoProblemYaml_IsRefused()
    {
        var files = BasicPackage();
        files.Remove("problem.yaml");
        Fails(() => PackageSource.FromZip(WriteZip(files)), "no problem.yaml");
    }

    [Fact]
    public void Read_ZipEntryOverTheCap_IsRefusedFromItsDeclaredSize()
    {
        var files = BasicPackage();
        files["data/secret/c.ans"] = new string('7', 5000); // compresses to a few bytes; declared size 5000
        var options = new ProblemLibraryOptions { MaxTestFileBytes = 4096 };

        var ex = Fails(() => Read(PackageSource.FromZip(WriteZip(files)), options), "limit for test files");
        Assert.EndsWith("!data/secret/c.ans", ex.File);
    }

    [Fact]
    public async Task ReadAsync_ContentOverTheCap_IsRefusedEvenWhenTheSizeIsNotCheckedFirst()
    {
        var files = BasicPackage();
        files["data/secret/c.ans"] = new string('7', 5000);
        var problem = Read(PackageSource.FromZip(WriteZip(files)));

        await Assert.ThrowsAsync<ProblemFormatException>(() => problem.Tests.Single(t => t.Name == "secret/c").Answer.ReadAsync(4096, CancellationToken.None));
    }

    [Fact]
    public void Read_FolderWithAFifo_IsRefusedWithoutWaitingForAWriter()
    {
        var files = BasicPackage();
        files.Remove("data/secret/a.in");
        string root = WriteFolder(files);
        string fifo = Path.Combine(root, "data", "secret", "a.in");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        // Reading it would block until a writer came: indexing must refuse it first.
        var ex = Fails(() => PackageSource.FromFolder(root), "not a regular file");
        Assert.EndsWith("a.in", ex.File);
    }

    [Fact]
    public void Read_ZipEntryWithDamagedData_IsAProblemFault()
    {
        var files = BasicPackage();
        files["problem.yaml"] += new string('#', 4000) + "\n";
        string zip = WriteZip(files);
        // The first entry is problem.yaml: its deflated data starts after the 30-byte local header and the name.
        var bytes = File.ReadAllBytes(zip);
        for (int i = 30 + "problem.yaml".Length + 4; i < 30 + "problem.yaml".Length + 24; i++)
        {
            bytes[i] ^= 0x5A;
        }

        File.WriteAllBytes(zip, bytes);
        var ex = Fails(() => Read(PackageSource.FromZip(zip)), "damaged zip entry");
        Assert.EndsWith("!problem.yaml", ex.File);
    }

    [Theory]
    [InlineData("0.5")]
    [InlineData("1.5")]
    public void Read_FractionalMemoryLimit_IsRefused(string memory)
    {
        var files = BasicPackage();
        files["problem.yaml"] = $"name: Demo\nlimits:\n  memory: {memory}\n";
        Fails(() => Read(PackageSource.FromFolder(WriteFolder(files))), "whole number");
    }
}
