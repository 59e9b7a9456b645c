using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Cli.Serve;

namespace Sandbox.Cli.Tests.Serve;

public sealed class SqliteSharedRunStoreTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sandbox-store-tests-" + Guid.NewGuid().ToString("N"));
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    private string DatabasePath => Path.Combine(_folder, "nested", "shares.db");

    private static SharedRunContent Sample(string source = "print('hi')\n") => new(
        "python",
        source,
        "1 2\n",
        "fizzbuzz",
        [new SharedOutputChunk("stdout", "hi\n"), new SharedOutputChunk("stderr", "warning: ünïcode ✓\n")],
        "OK · exit 0 · 31 ms");

    [Fact]
    public async Task Add_ThenGet_ReturnsTheSameContent()
    {
        using var store = new SqliteSharedRunStore(DatabasePath, NullLogger<SqliteSharedRunStore>.Instance);

        var added = await store.AddAsync(Sample(), _timeout.Token);
        var read = await store.GetAsync(added.Id, _timeout.Token);

        Assert.NotNull(read);
        Assert.Equal(added.Id, read.Id);
        Assert.Equal(Sample().Language, read.Content.Language);
        Assert.Equal(Sample().Source, read.Content.Source);
        Assert.Equal(Sample().Stdin, read.Content.Stdin);
        Assert.Equal(Sample().Problem, read.Content.Problem);
        Assert.Equal(Sample().Status, read.Content.Status);
        Assert.Equal(Sample().Output, read.Content.Output);
        Assert.Equal(added.CreatedUtc, read.CreatedUtc);
    }

    [Fact]
    public async Task Add_CreatesTheDatabaseFolder_AndSharesOutliveTheStore()
    {
        string id;
        using (var store = new SqliteSharedRunStore(DatabasePath, NullLogger<SqliteSharedRunStore>.Instance))
        {
            id = (await store.AddAsync(Sample(), _timeout.Token)).Id;
        }

        Assert.True(File.Exists(DatabasePath));
        using var reopened = new SqliteSharedRunStore(DatabasePath, NullLogger<SqliteSharedRunStore>.Instance);
        Assert.NotNull(await reopened.GetAsync(id, _timeout.Token));
    }

    [Fact]
    public async Task Add_TwoShares_GetDifferentIds()
    {
        using var store = new SqliteSharedRunStore(DatabasePath, NullLogger<SqliteSharedRunStore>.Instance);

        var first = await store.AddAsync(Sample("a"), _timeout.Token);
        var second = await store.AddAsync(Sample("b"), _timeout.Token);

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal("a", (await store.GetAsync(first.Id, _timeout.Token))!.Content.Source);
        Assert.Equal("b", (await store.GetAsync(second.Id, _timeout.Token))!.Content.Source);
    }

    [Fact]
    public async Task Add_NullProblemAndStatus_RoundTripAsNull()
    {
        using var store = new SqliteSharedRunStore(DatabasePath, NullLogger<SqliteSharedRunStore>.Instance);

        var added = await store.AddAsync(Sample() with { Problem = null, Status = null, Output = [] }, _timeout.Token);
        var read = await store.GetAsync(added.Id, _timeout.Token);

        Assert.Null(read!.Content.Problem);
        Assert.Null(read.Content.Status);
        Assert.Empty(read.Content.Output);
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAA")]
    [InlineData("' OR 1=1 --")]
    public async Task Get_UnknownOrMalformedId_ReturnsNull(string id)
    {
        using var store = new SqliteSharedRunStore(DatabasePath, NullLogger<SqliteSharedRunStore>.Instance);
        await store.AddAsync(Sample(), _timeout.Token);

        Assert.Null(await store.GetAsync(id, _timeout.Token));
    }

    [Fact]
    public async Task Add_ConcurrentShares_AllStored()
    {
        using var store = new SqliteSharedRunStore(DatabasePath, NullLogger<SqliteSharedRunStore>.Instance);

        var added = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => store.AddAsync(Sample($"print({i})"), _timeout.Token)));

        foreach (var run in added)
        {
            Assert.Equal(run.Content.Source, (await store.GetAsync(run.Id, _timeout.Token))!.Content.Source);
        }
    }

    public void Dispose()
    {
        _timeout.Dispose();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
