using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Sandbox.Cli.Serve;

/// <summary>Shares in one SQLite file (<c>shares.db</c> under the data folder), created on first use.</summary>
public sealed class SqliteSharedRunStore : ISharedRunStore, IDisposable
{
    private const int SqliteConstraint = 19;
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private readonly string _connectionString;
    private readonly ILogger<SqliteSharedRunStore> _logger;
    private readonly SemaphoreSlim _createLock = new(1, 1);
    private volatile bool _created;

    /// <summary>A store in the file at <paramref name="databasePath"/>; its folder is made when missing.</summary>
    public SqliteSharedRunStore(string databasePath, ILogger<SqliteSharedRunStore> logger)
    {
        DatabasePath = Path.GetFullPath(databasePath);
        _logger = logger;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    /// <inheritdoc />
    public async Task<SharedRun> AddAsync(SharedRunContent content, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var created = DateTimeOffset.UtcNow;
        // 95 random bits make a collision practically impossible; the primary key still guards it.
        for (var attempt = 1; ; attempt++)
        {
            var id = ShareId.New();
            await using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO shared_runs (id, created_utc, language, source, stdin, problem, status, output_json)
                VALUES ($id, $created, $language, $source, $stdin, $problem, $status, $output)
                """;
            insert.Parameters.AddWithValue("$id", id);
            insert.Parameters.AddWithValue("$created", created.ToString("O"));
            insert.Parameters.AddWithValue("$language", content.Language);
            insert.Parameters.AddWithValue("$source", content.Source);
            insert.Parameters.AddWithValue("$stdin", content.Stdin);
            insert.Parameters.AddWithValue("$problem", (object?)content.Problem ?? DBNull.Value);
            insert.Parameters.AddWithValue("$status", (object?)content.Status ?? DBNull.Value);
            insert.Parameters.AddWithValue("$output", JsonSerializer.Serialize(content.Output, JsonOptions));
            try
            {
                await insert.ExecuteNonQueryAsync(cancellationToken);
                _logger.LogInformation("Stored shared run {ShareId} ({Language}, {SourceChars} chars)", id, content.Language, content.Source.Length);
                return new SharedRun(id, content, created);
            }
            catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint && attempt < 3)
            {
                _logger.LogWarning("Share id collision on {ShareId}; drawing another", id);
            }
        }
    }

    /// <inheritdoc />
    public async Task<SharedRun?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (!ShareId.IsWellFormed(id))
        {
            return null;
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var select = connection.CreateCommand();
        select.CommandText = """
            SELECT created_utc, language, source, stdin, problem, status, output_json
            FROM shared_runs WHERE id = $id
            """;
        select.Parameters.AddWithValue("$id", id);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var output = JsonSerializer.Deserialize<List<SharedOutputChunk>>(reader.GetString(6), JsonOptions) ?? [];
        var problem = await reader.IsDBNullAsync(4, cancellationToken) ? null : reader.GetString(4);
        var status = await reader.IsDBNullAsync(5, cancellationToken) ? null : reader.GetString(5);
        var content = new SharedRunContent(
            Language: reader.GetString(1),
            Source: reader.GetString(2),
            Stdin: reader.GetString(3),
            Problem: problem,
            Output: output,
            Status: status);
        return new SharedRun(id, content, DateTimeOffset.Parse(reader.GetString(0), System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public void Dispose() => _createLock.Dispose();

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_created)
        {
            await _createLock.WaitAsync(cancellationToken);
            try
            {
                if (!_created)
                {
                    await CreateAsync(cancellationToken);
                    _created = true;
                }
            }
            finally
            {
                _createLock.Release();
            }
        }

        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private async Task CreateAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var create = connection.CreateCommand();
        // WAL lets readers of shares go on while one is written.
        create.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS shared_runs (
                id          TEXT PRIMARY KEY,
                created_utc TEXT NOT NULL,
                language    TEXT NOT NULL,
                source      TEXT NOT NULL,
                stdin       TEXT NOT NULL,
                problem     TEXT,
                status      TEXT,
                output_json TEXT NOT NULL
            );
            """;
        await create.ExecuteNonQueryAsync(cancellationToken);
        _logger.LogInformation("Shared runs are stored in {DatabasePath}", DatabasePath);
    }
}
